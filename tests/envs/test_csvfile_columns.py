"""A missing CSV column is one line naming it, the header wanted and the header found (HVAC and Trading alike)."""

import pytest

from envs.csvfile import column_index
from envs.hvac.weather import load_weather_csv
from envs.trading.ohlcv_csv import load_ohlcv_csv


def test_column_index_positions_and_missing():
    assert column_index("f.csv", ["b", "a", "c"], ["a", "c"], "a,c") == {"a": 1, "c": 2}
    with pytest.raises(ValueError, match=r"^f\.csv: missing column\(s\) a, c; expected a header a,c, got b$"):
        column_index("f.csv", ["b"], ["a", "c"], "a header a,c")


@pytest.mark.parametrize(
    "load, text, message",
    [
        (load_weather_csv, "timestamp,temp_out_c\n2020-01-01T00:00,1\n2020-01-01T01:00,2\n",
         r"missing column\(s\) solar_w_m2; expected a header timestamp,temp_out_c,solar_w_m2 .*got timestamp,temp_out_c$"),
        (load_ohlcv_csv, "Date,Open,High,Low,Close\n2020-01-02,1,1,1,1\n2020-01-03,1,1,1,1\n",
         r"missing column\(s\) Volume; expected a header with Date,.*got Date,Open,High,Low,Close$"),
    ],
)  # fmt: skip
def test_a_loader_names_the_missing_column(tmp_path, load, text, message):
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load(path)

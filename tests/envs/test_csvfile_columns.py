"""A missing CSV column is one line naming it, the header wanted and the header found (HVAC and Trading alike)."""

import pytest

from envs.csvfile import column_index
from envs.hvac.weather import load_weather_csv
from envs.trading.ohlcv_csv import load_ohlcv_csv


def test_column_index_positions_and_missing():
    assert column_index("f.csv", ["b", "a", "c"], ["a", "c"], "a,c") == {"a": 1, "c": 2}
    with pytest.raises(ValueError, match=r"^f\.csv: missing column\(s\) a, c; expected a header a,c, got b$"):
        column_index("f.csv", ["b"], ["a", "c"], "a header a,c")


def test_weather_csv_without_solar_names_it(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("timestamp,temp_out_c\n2020-01-01T00:00,1\n2020-01-01T01:00,2\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) solar_w_m2; expected a header timestamp,temp_out_c,solar_w_m2 .*got timestamp,temp_out_c$"):
        load_weather_csv(path)


def test_ohlcv_csv_without_volume_names_it(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Date,Open,High,Low,Close\n2020-01-02,1,1,1,1\n2020-01-03,1,1,1,1\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) Volume; expected a header with Date,.*got Date,Open,High,Low,Close$"):
        load_ohlcv_csv(path)

"""experiments/hvac_week.py: draws a week of a baseline on HVAC-Setpoint's evaluation weeks; bad input is one line."""

import pytest

from experiments.hvac_week import main


def test_a_baseline_week_is_drawn(tmp_path, capsys):
    out = tmp_path / "week.png"
    assert main(["--baseline", "thermostat", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG" and "cost_eur" in capsys.readouterr().out


def test_a_day_outside_the_evaluation_weeks_is_refused(tmp_path, capsys):
    assert main(["--baseline", "thermostat", "--start-day", "3", "--out", str(tmp_path / "w.png")]) == 2
    assert "not a start of split='test'" in capsys.readouterr().err and not (tmp_path / "w.png").exists()
    with pytest.raises(SystemExit):
        main(["--baseline", "thermostat", "--out", str(tmp_path / "missing" / "w.png")])

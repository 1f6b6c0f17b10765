import datetime
import shutil

import pytest
from django.core.management import CommandError, call_command

from core.text import normalize_search_text
from market.models import DailyBar, Stock

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_import_listing_twice_says_nothing_changed(shared_data_dir):
    path = shared_data_dir / "jpx_listed_issues_2026-02-28.csv"

    first = run("import_listing", str(path))
    second = run("import_listing", str(path))

    assert "4439 created" in first
    assert "nothing changed" in second
    assert Stock.objects.count() == 4439
    veritas = Stock.objects.get(code="130A")
    assert veritas.name_normalized == normalize_search_text("Veritas In Silico")
    assert Stock.objects.get(code="25935").is_listed


def test_import_prices_twice_writes_nothing_the_second_time(shared_data_dir, tmp_path):
    for code in ("6758", "6098"):
        shutil.copy(shared_data_dir / "jp_daily" / f"{code}.csv", tmp_path)

    first = run("import_prices", str(tmp_path))
    second = run("import_prices", str(tmp_path))

    assert "10030 bars inserted" in first
    assert "0 bars inserted, 0 updated, 10030 unchanged: nothing changed" in second
    assert DailyBar.objects.count() == 10030
    sony = Stock.objects.get(code="6758")
    assert (sony.first_bar_date, sony.last_bar_date) == (
        datetime.date(1983, 1, 4),
        datetime.date(2018, 11, 16),
    )


def test_import_prices_updates_a_changed_day(shared_data_dir, tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text("code,date,open,high,low,close,volume\n7203,2018-11-16,10,12,9,11,100\n")
    run("import_prices", str(path))
    path.write_text("code,date,open,high,low,close,volume\n7203,2018-11-16,10,12,9,12,100\n")

    output = run("import_prices", str(path))

    assert "0 bars inserted, 1 updated" in output
    bar = DailyBar.objects.get(stock__code="7203")
    assert (bar.close, bar.adj_close) == (12, 12)


def test_malformed_file_is_reported_and_written_not_at_all_while_others_go_on(tmp_path):
    good = tmp_path / "a_good.csv"
    good.write_text("code,date,open,high,low,close,volume\n7203,2018-11-16,10,12,9,11,100\n")
    bad = tmp_path / "b_bad.csv"
    bad.write_text(
        "code,date,open,high,low,close,volume\n"
        "9984,2018-11-15,10,12,9,11,100\n"
        "9984,2018-11-16,10,8,9,11,100\n"
    )

    with pytest.raises(CommandError, match="1 of 2 files failed"):
        run("import_prices", str(tmp_path))

    assert list(DailyBar.objects.values_list("stock__code", flat=True)) == ["7203"]
    assert not Stock.objects.filter(code="9984").exists()


def test_malformed_file_message_names_file_line_and_reason(tmp_path, capsys):
    bad = tmp_path / "9984.csv"
    bad.write_text("Date,Open,Hight,Low,Close,Volume,Adj Close\n2018/11/16,10,8,9,11,100,11\n")

    with pytest.raises(CommandError):
        call_command("import_prices", str(bad))

    assert f"{bad}:2: high 8 is below low 9" in capsys.readouterr().err


def test_stock_missing_from_listing_is_created_unlisted_with_its_code_as_name(shared_data_dir):
    call_command("import_prices", str(shared_data_dir / "jp_daily" / "6502.csv"), verbosity=0)

    toshiba = Stock.objects.get(code="6502")
    assert (toshiba.name, toshiba.is_listed) == ("6502", False)


def test_listing_names_a_stock_first_created_by_a_price_import(shared_data_dir, tmp_path):
    call_command("import_prices", str(shared_data_dir / "jp_daily" / "7203.csv"), verbosity=0)
    listing = tmp_path / "listing.csv"
    listing.write_text(
        "\ufeff日付,コード,銘柄名,市場・商品区分,33業種コード,33業種区分,17業種コード,17業種区分,規模コード,規模区分\n"
        "20260228,7203,トヨタ自動車,プライム（内国株式）,3700,輸送用機器,"
        "6,自動車・輸送機,1,TOPIX Core30\n",
        encoding="utf-8",
    )

    run("import_listing", str(listing))

    toyota = Stock.objects.get(code="7203")
    assert (toyota.name, toyota.is_listed, toyota.bars.count()) == ("トヨタ自動車", True, 9029)


SPLITS = [
    ("8306", "2007-10-01", 1000),
    ("1605", "2013-09-26", 400),
    ("9984", "2000-04-25", 3),
    ("9984", "2005-12-28", 3),
    ("6758", "2000-03-28", 2),
    ("6098", "2017-06-28", 3),
    ("4689", "2004-09-27", 2),
    ("4689", "2013-09-26", 100),
]


@pytest.mark.parametrize(("code", "day", "ratio"), SPLITS)
def test_imported_split_keeps_raw_prices_as_traded_and_the_adjusted_series_smooth(
    shared_data_dir, code, day, ratio
):
    call_command("import_prices", str(shared_data_dir / "jp_daily" / f"{code}.csv"), verbosity=0)
    split_day = datetime.date.fromisoformat(day)
    before = DailyBar.objects.filter(stock__code=code, date__lt=split_day).latest("date")
    on = DailyBar.objects.get(stock__code=code, date=split_day)

    raw_move = on.close / before.close
    adjusted_move = on.adj_close / before.adj_close

    assert raw_move < 1.3 / ratio
    assert 0.75 < adjusted_move < 1.3
    assert adjusted_move == pytest.approx(raw_move * ratio, rel=0.02)
    assert before.adj_factor == pytest.approx(on.adj_factor / ratio, rel=0.02)


def test_delist_missing_marks_stocks_absent_from_the_whole_list(shared_data_dir, tmp_path):
    call_command("import_prices", str(shared_data_dir / "jp_daily" / "7203.csv"), verbosity=0)
    listing = tmp_path / "listing.csv"
    listing.write_text(
        "\ufeff日付,コード,銘柄名,市場・商品区分,33業種コード,33業種区分,17業種コード,17業種区分,規模コード,規模区分\n"
        "20260228,9984,ソフトバンクグループ,プライム（内国株式）,5250,情報・通信業,"
        "10,情報通信,1,TOPIX Core30\n",
        encoding="utf-8",
    )
    Stock.objects.filter(code="7203").update(is_listed=True)

    output = run("import_listing", str(listing), "--delist-missing")

    assert "1 marked unlisted" in output
    assert not Stock.objects.get(code="7203").is_listed
    assert Stock.objects.get(code="9984").is_listed

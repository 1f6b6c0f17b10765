import datetime
import gzip

import pytest

from market.exchanges.tse.files import FileFormatError, read_listing_file, read_price_file


def test_jp_daily_file_is_read_with_its_code_and_adjusted_close(shared_data_dir):
    bars = read_price_file(shared_data_dir / "jp_daily" / "8306.csv")["8306"]

    assert len(bars) == 4321
    first = bars[0]
    assert first.date == datetime.date(2001, 4, 2)
    assert (first.open, first.high, first.low, first.close) == (1180000, 1220000, 1150000, 1220000)
    assert first.volume == 40225
    assert first.adj_close == 1220


def test_plain_gzipped_file_is_read_per_code(tmp_path):
    path = tmp_path / "bars.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(
            "code,date,open,high,low,close,volume\n"
            "7203,2018-11-15,6700,6750,6650,6720,100\n"
            "130a,2018-11-15,10,11,9,10,5\n"
            "7203,2018-11-14,6600,6710,6590,6700,200\n"
        )

    bars = read_price_file(path)

    assert sorted(bars) == ["130A", "7203"]
    assert [bar.date.day for bar in bars["7203"]] == [14, 15]
    assert bars["7203"][0].adj_close is None


JP_HEADER = "Date,Open,Hight,Low,Close,Volume,Adj Close\n"


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("Date;Open\n", 1, "unknown header"),
        (JP_HEADER + "2018/11/15,1,2,1,2,10,2\n2018/11/16,1,2,x,2,10,2\n", 3, "could not convert"),
        (JP_HEADER + "2018/11/16,1,2,3,2,10,2\n", 2, "high 2 is below low 3"),
        (JP_HEADER + "2018/11/16,1,2,1,2,10,2\n2018/11/16,1,2,1,2,10,2\n", 3, "appears twice"),
        (JP_HEADER + "2018/11/16,1,2,1,2,10\n", 2, "expected 7 columns"),
        (JP_HEADER + "16.11.2018,1,2,1,2,10,2\n", 2, "is not YYYY/MM/DD"),
        (JP_HEADER + "2018/11/16,1,2,1,2,10.5,2\n", 2, "not a whole number"),
        (JP_HEADER + "2018/11/16,0,0,0,0,10,2\n", 2, "positive"),
        (JP_HEADER + "2018/11/16,1,inf,1,2,10,2\n", 2, "positive"),
        (JP_HEADER + "2018/11/16,nan,2,1,2,10,2\n", 2, "positive"),
        (JP_HEADER + "2018/11/16,1,2,1,2,10,-1\n", 2, "adjusted close"),
        (JP_HEADER + "2018/11/16,1,2,1,3,10,2\n", 2, "outside low-high"),
    ],
)
def test_malformed_price_file_names_line_and_reason(tmp_path, body, line, reason):
    path = tmp_path / "7203.csv"
    path.write_text(body)

    with pytest.raises(FileFormatError) as error:
        read_price_file(path)

    assert error.value.line == line
    assert reason in error.value.reason
    assert str(error.value).startswith(f"{path}:{line}: ")


def test_listing_reads_bom_japanese_headers_letters_and_five_digit_codes(shared_data_dir):
    rows = {
        row.code: row
        for row in read_listing_file(shared_data_dir / "jpx_listed_issues_2026-02-28.csv")
    }

    assert len(rows) == 4439
    assert rows["130A"].name == "Ｖｅｒｉｔａｓ\u3000Ｉｎ\u3000Ｓｉｌｉｃｏ"
    assert rows["25935"].segment == "プライム（内国株式）"
    toyota = rows["7203"]
    assert (toyota.sector33_code, toyota.sector33, toyota.size_class) == (
        "3700",
        "輸送用機器",
        "TOPIX Core30",
    )
    assert rows["1306"].sector33 == ""

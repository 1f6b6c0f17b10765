"""Rebuild the bundled demo market from ../shared/data (run from the repository root).

    python market/demo/build.py [--shared ../shared/data]

Writes listing.csv (the exchange's rows for the chosen issues, same format as the JPX file) and
prices.csv.gz (plain format, code,date,open,high,low,close,volume,adj_close, from START on).
"""

import argparse
import csv
import gzip
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
START = "2000/01/01"
# Across segments and sectors; 8306, 1605, 9984, 6758, 6098, 4689, 7203 and 7974 have splits,
# 6502 (Toshiba) was delisted in 2023 and is not in the 2026 listing.
CODES = [
    "1321",
    "1570",
    "8951",
    "1332",
    "1605",
    "1801",
    "2160",
    "2702",
    "2914",
    "3402",
    "3861",
    "4063",
    "4502",
    "4689",
    "5020",
    "5108",
    "5401",
    "5713",
    "6098",
    "6301",
    "6501",
    "6502",
    "6758",
    "6861",
    "7203",
    "7267",
    "7779",
    "7974",
    "8058",
    "8306",
    "8411",
    "8572",
    "8604",
    "8766",
    "8801",
    "9020",
    "9101",
    "9202",
    "9432",
    "9501",
    "9983",
    "9984",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared" / "data")
    args = parser.parse_args()
    listing_path = args.shared / "jpx_listed_issues_2026-02-28.csv"
    with listing_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for row in reader if row[1] in CODES]
    with (HERE / "listing.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "date", "open", "high", "low", "close", "volume", "adj_close"])
    for code in CODES:
        with (args.shared / "jp_daily" / f"{code}.csv").open(newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for date, open_, high, low, close, volume, adj_close in reader:
                if date >= START:
                    writer.writerow(
                        [code, date.replace("/", "-"), open_, high, low, close, volume, adj_close]
                    )
    with gzip.GzipFile(HERE / "prices.csv.gz", "wb", compresslevel=9, mtime=0) as handle:
        handle.write(buffer.getvalue().encode())


if __name__ == "__main__":
    main()

"""The customers CSV format."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.customers_csv import COLUMNS, read_customers_csv
from domain import Identity
from domain.errors import BadInput

HEADER = ",".join(COLUMNS)


def test_header_is_the_stable_format() -> None:
    assert HEADER == ("id,name,kind,company,segment,annual_revenue,emails,domains,aliases,"
                      "reddit,x,mastodon,bluesky,hackernews")


def test_rows_parse_with_multi_values_and_handles(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(
        "\ufeff" + HEADER + "\n"
        'cus_1,Acme Anvils,company,,Enterprise,"1,200,000",ops@acme.example;,acme.example,Acme;ACME,,@AcmeHQ,,acme.bsky.social,\n'
        "cus_2,Jo Rivera,person,Acme Anvils,enterprise,,jo@acme.example,,,jo_r,jorivera,jo@mastodon.example,,jor\n",
        encoding="utf-8")
    customers, rejected = read_customers_csv(f)
    assert rejected == []
    acme, jo = customers
    assert acme.annual_revenue == 1_200_000 and acme.segment == "enterprise"
    assert acme.emails == ("ops@acme.example",) and acme.aliases == ("Acme", "ACME")
    assert set(acme.identities) == {Identity("x", "acmehq"), Identity("bluesky", "acme.bsky.social")}
    assert jo.handles_on("mastodon") == ("jo@mastodon.example",)
    assert jo.handles_on("hackernews") == ("jor",)


def test_missing_required_column_fails_before_anything(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("id,kind,company\ncus_1,company,\n")
    with pytest.raises(BadInput) as info:
        read_customers_csv(f)
    assert "'name'" in str(info.value)
    assert info.value.details["missing_columns"] == ["name"]


def test_bad_rows_are_rejected_by_line_and_the_rest_kept(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(
        HEADER + "\n"
        "cus_1,Good,company,,,,,,,,,,,\n"
        "cus_2,Bad kind,robot,,,,,,,,,,,\n"
        "cus_3,Bad revenue,company,,,lots,,,,,,,,\n"
        ",No id,person,,,,,,,,,,,\n"
        "cus_1,Twice,company,,,,,,,,,,,\n"
        "cus_6,Extra cells,company,,,,,,,,,,,,x,y\n"
        "cus_7,Negative,company,,,-5,,,,,,,,\n"
        "cus_8,Also good,person,,,,,,,,,,,\n")
    customers, rejected = read_customers_csv(f)
    assert [c.id for c in customers] == ["cus_1", "cus_8"]
    lines = {r.where.rsplit(":", 1)[1]: r.reason for r in rejected}
    assert set(lines) == {"3", "4", "5", "6", "7", "8"}
    assert "kind" in lines["3"] and "annual_revenue" in lines["4"] and "id" in lines["5"]
    assert "twice" in lines["6"] and "more cells" in lines["7"] and "negative" in lines["8"]


def test_not_utf8_or_missing_file_is_bad_input(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_bytes(HEADER.encode() + b"\ncus_1,\xff\xfe,company\n")
    with pytest.raises(BadInput, match="UTF-8"):
        read_customers_csv(f)
    with pytest.raises(BadInput, match="no such file"):
        read_customers_csv(tmp_path / "missing.csv")


def test_nul_and_cut_emoji_cells_are_repaired_and_the_rows_kept(tmp_path: Path) -> None:
    """A NUL (an export tool's padding) or an emoji cut in half and written by a tool that
    encodes each UTF-16 half on its own (ED A0 BD) no longer rejects the whole file."""
    f = tmp_path / "c.csv"
    f.write_bytes(HEADER.encode() + b"\n"
                  b"cus_1,Acme Anvils,company,,,,,,,,,,,\n"
                  b"cus_2,Jo \xed\xa0\xbd,person,,,,,,,,,,,\n"
                  b"cus_3,Nimbus\x00 Ltd,company,,,,,,,,,,,\n"
                  b"cus_4,Wave \xed\xa0\xbd\xed\xb1\x8d,person,,,,,,,,,,,\n")
    customers, rejected = read_customers_csv(f)
    assert rejected == []
    assert [c.name for c in customers] == ["Acme Anvils", "Jo \ufffd", "Nimbus\ufffd Ltd",
                                           "Wave \U0001f44d"]


def test_a_revenue_beyond_64_bits_rejects_only_its_row(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(HEADER + "\n"
                 "cus_1,Acme Anvils,company,,,99999999999999999999999,,,,,,,,\n"
                 "cus_2,Jo Rivera,person,,,1e30,,,,,,,,\n"
                 "cus_3,Nimbus,company,,,1200000,,,,,,,,\n")
    customers, rejected = read_customers_csv(f)
    assert [c.id for c in customers] == ["cus_3"]
    assert [r.where.rsplit(":", 1)[1] for r in rejected] == ["2", "3"]
    assert all("64-bit" in r.reason for r in rejected)


def test_a_10_mb_cell_rejects_only_its_row(tmp_path: Path) -> None:
    # A CRM export whose aliases cell of one row holds a pasted mail thread (10 MB, one line,
    # and once more quoted over two lines).
    f = tmp_path / "c.csv"
    thread = "Re: renewal " * 900_000
    f.write_text(
        "id,name,kind,aliases\r\n"
        "cus_1,Acme Anvils,company,Acme\r\n"
        f"cus_2,Bolt Works,company,{thread}\r\n"
        "cus_3,Jo Rivera,person,\r\n"
        f'cus_4,Cog Co,company,"{thread}\r\n{thread}"\r\n'
        "cus_5,Dana Ops,person,\r\n", encoding="utf-8")
    customers, rejected = read_customers_csv(f)
    assert [c.id for c in customers] == ["cus_1", "cus_3", "cus_5"]
    assert rejected[0].where == f"{f}:3" and "field larger than field limit" in rejected[0].reason
    assert all(r.where.startswith(f"{f}:") for r in rejected)
    assert len(rejected) <= 3  # the quoted cell's row, and the rest of its second line


def test_a_header_past_the_csv_limit_is_bad_input_naming_the_line(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("id,name,kind," + "x" * 200_000 + "\r\ncus_1,Acme,company,\r\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"c\.csv:1: the header is not valid CSV"):
        read_customers_csv(f)


def test_a_file_excel_saved_with_semicolons_says_so(tmp_path: Path) -> None:
    # Excel in German, French or Dutch saves "CSV" with ';' between cells, and a BOM.
    f = tmp_path / "c.csv"
    f.write_text("\ufeffid;name;kind\r\ncus_1;Acme Anvils;company\r\n", encoding="utf-8")
    with pytest.raises(BadInput, match="separated by ';'.*save it with ',' separators"):
        read_customers_csv(f)

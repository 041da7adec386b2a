"""Parsing the asset CSV: every row checked, each error named by its row."""

from __future__ import annotations

from devices.csv_import import parse_assets_csv


def test_a_header_without_a_type_column_is_refused() -> None:
    assert parse_assets_csv("id,name\ns,S\n") == (
        [],
        {"row 1": "the header must name a type column"},
    )


def test_a_header_with_unknown_columns_is_refused() -> None:
    rows, errors = parse_assets_csv("type,id,name,colour\nsite,s,S,red\n")
    assert (rows, errors) == ([], {"row 1": "unknown column(s): colour"})


def test_row_numbers_are_line_numbers_even_after_a_quoted_multiline_cell() -> None:
    text = 'type,id,name,lat,lon,address\nsite,s1,S,1,2,"Line 1\nLine 2"\nsite,s2,,1,2,\n'
    rows, errors = parse_assets_csv(text)
    assert [r.item_id for r in rows] == ["s1"]
    assert errors == {"row 4": "name: Field required"}


def test_lists_are_split_on_semicolons() -> None:
    text = "type,id,name,polygon\nsite,s,S,1 2; 1 3 ;2 3\n"
    [row], errors = parse_assets_csv(text)
    assert errors == {}
    assert row.item.model_dump()["polygon"] == [(1.0, 2.0), (1.0, 3.0), (2.0, 3.0)]


def test_a_malformed_polygon_says_how_to_write_it() -> None:
    _, errors = parse_assets_csv("type,id,name,polygon\nsite,s,S,1 2; x y; 2 3\n")
    assert errors == {"row 2": "polygon: write it as 'lat lon; lat lon; lat lon'"}

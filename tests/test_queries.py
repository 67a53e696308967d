"""The named-query loader: headers, docs, and the :param -> $n rewrite."""

from pathlib import Path

import pytest

from tether import queries
from tether.queries import QueryError, parse, rewrite


def test_params_are_numbered_by_first_appearance_and_reused():
    sql, params = rewrite("select :b, :a, :b")
    assert sql == "select $1, $2, $1"
    assert params == ("b", "a")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("select ':not_a_param'", "select ':not_a_param'"),
        ("select 'it''s :x' || :y", "select 'it''s :x' || $1"),
        (r"select E'\' :x' || :y", r"select E'\' :x' || $1"),
        (r"select e'a\\' || :y", r"select e'a\\' || $1"),
        ('select ":x" from t where a = :y', 'select ":x" from t where a = $1'),
        ("select 1 -- :x\n, :y", "select 1 -- :x\n, $1"),
        ("select /* :x /* nested :z */ */ :y", "select /* :x /* nested :z */ */ $1"),
        ("select $$ :x $$ || :y", "select $$ :x $$ || $1"),
        ("select $body$ :x $notend$ $body$, :y", "select $body$ :x $notend$ $body$, $1"),
        ("select :y::int, x::text", "select $1::int, x::text"),
        (
            "select a[1:2], a[lo:hi], a[f(x):n], a[b[1]:n]",
            "select a[1:2], a[lo:hi], a[f(x):n], a[b[1]:n]",
        ),
        ("select array[:a, :b]", "select array[$1, $2]"),
        ("select a[:i]", "select a[$1]"),
        ("select (:a)", "select ($1)"),
        ("select name from t where x=:y", "select name from t where x=$1"),
        ("select a$b, :y", "select a$b, $1"),
        ("select e from t where a = :y", "select e from t where a = $1"),
    ],
)
def test_rewrite_lexes_like_postgresql(source, expected):
    assert rewrite(source)[0] == expected


def test_positional_parameters_are_refused():
    with pytest.raises(QueryError, match="name them"):
        rewrite("select $1")


@pytest.mark.parametrize(
    "source", ["select 'open", "select $$ open", "select /* open", 'select "open']
)
def test_unterminated_tokens_are_refused(source):
    with pytest.raises(QueryError, match="unterminated"):
        rewrite(source)


def test_file_is_split_at_headers_with_docs_and_lines():
    text = (
        "-- a file comment\n"
        "\n"
        "-- name: first :one\n"
        "-- The first one.\n"
        "-- Two lines of doc.\n"
        "select :id;\n"
        "\n"
        "-- name: second :execrows\n"
        "delete from t where id = :id and b = :b\n"
    )
    first, second = parse(text, Path("x.sql"), "demo")
    assert (first.name, first.command, first.line) == ("first", "one", 3)
    assert first.doc == "The first one. Two lines of doc."
    assert first.sql == "select $1"
    assert second.params == ("id", "b")
    assert second.location == "x.sql:8"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: q\nselect 1", "needs a command"),
        ("-- name: q :fetch\nselect 1", "needs a command"),
        ("-- name: q :one\n-- only a doc\n", "has no SQL"),
        ("select 1\n-- name: q :one\nselect 1", "before the first"),
        ("-- name: q :one\nselect 'x", "x.sql:1: query 'q': unterminated"),
    ],
)
def test_bad_files_name_file_and_line(text, message):
    with pytest.raises(QueryError, match=message) as refused:
        parse(text, Path("x.sql"), "demo")
    assert (refused.value.path, type(refused.value.line)) == (Path("x.sql"), int)


def test_duplicate_names_in_a_domain_are_refused(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.sql").write_text("-- name: q :one\nselect 1\n")
    (tmp_path / "d" / "b.sql").write_text("-- name: q :one\nselect 2\n")
    with pytest.raises(QueryError, match="already defined"):
        queries.load("d", root=tmp_path)


def test_arguments_are_checked_by_name():
    query = parse("-- name: q :one\nselect :a, :b", Path("x.sql"), "demo")[0]
    assert query.args({"b": 2, "a": 1}) == (1, 2)
    with pytest.raises(TypeError, match=r"missing \['b'\], unexpected \['c'\]"):
        query.args({"a": 1, "c": 3})


def test_unknown_query_names_the_known_ones():
    planner = queries.load("planner")
    with pytest.raises(AttributeError, match="get_user"):
        _ = planner.get_usr


def test_a_query_maps_to_one_record_only():
    query = parse("-- name: q :one\nselect 1", Path("x.sql"), "unit")[0]

    class A: ...

    class B: ...

    query.returning(A)
    assert queries.record_of(query) is A
    with pytest.raises(QueryError, match="mapped to both"):
        query.returning(B)

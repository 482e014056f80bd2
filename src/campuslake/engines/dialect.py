"""The one place engine dialects differ: campuslake's DuckDB SQL translated for Spark with sqlglot."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

ColumnsOf = Callable[[str], list[str]]
"""Spark SQL of a query -> its output column names (the engine asks Spark to analyze it)"""

READ_ONLY = {exp.Select: "SELECT", exp.Union: "SELECT", exp.Intersect: "SELECT", exp.Except: "SELECT",
             exp.Describe: "DESCRIBE", exp.Show: "SHOW", exp.Pragma: "PRAGMA"}


@dataclass(frozen=True)
class SparkStatement:
    """One statement for Spark. `kind` says how the engine runs it:
    `sql`: spark.sql(sql); `table`: materialize query `sql` as view `name`; `update`: the same,
    `sql` being the table's rows after the update; `rename`: view `name` becomes `target`;
    `drop`: drop view `name`; `copy`: write query `sql` as Parquet to `target`."""

    kind: str
    sql: str = ""
    name: str = ""
    target: str = ""
    if_exists: bool = False


def statements(sql: str) -> list[exp.Expression]:
    return [e for e in sqlglot.parse(sql, read="duckdb") if e is not None]


def statement_kind(statement: exp.Expression) -> str:
    for kind, name in READ_ONLY.items():
        if isinstance(statement, kind):
            return name
    return statement.key.upper()


def to_spark(trees: list[exp.Expression], columns_of: ColumnsOf) -> list[SparkStatement]:
    """Translate parsed DuckDB-dialect statements (from `statements`) into Spark statements."""
    return [_statement(tree, columns_of) for tree in trees]


def query_to_spark(query: exp.Expression, columns_of: ColumnsOf) -> str:
    """Spark SQL of one query. Star modifiers and BY NAME unions need the columns of their
    inputs, which only the engine knows: they are expanded innermost first through `columns_of`."""
    tree = query.copy()
    for node in reversed(list(tree.find_all(exp.Select, exp.Union))):  # breadth-first, reversed: deepest first
        if isinstance(node, exp.Union) and node.args.get("by_name"):
            _union_by_name(node, columns_of)
        elif isinstance(node, exp.Select):
            _expand_star_modifiers(node, columns_of)
    return _generate(_rewritten(tree))


def _statement(tree: exp.Expression, columns_of: ColumnsOf) -> SparkStatement:
    if isinstance(tree, exp.Create) and tree.args.get("expression") is not None:
        name = tree.this.name
        query = query_to_spark(tree.expression, columns_of)
        if tree.args.get("kind") == "TABLE":  # a materialized temp view: Spark tables live in a warehouse
            return SparkStatement("table", query, name)
        replace = "OR REPLACE " if tree.args.get("replace") else ""
        return SparkStatement("sql", f"CREATE {replace}TEMPORARY VIEW `{name}` AS {query}")
    if isinstance(tree, exp.Update):  # Spark has no UPDATE on a view: the rows after it, as a new view
        table = tree.this.name
        condition = tree.args["where"].this if tree.args.get("where") else exp.true()
        changed = {eq.this.name.lower(): eq.expression for eq in tree.expressions}

        def after(column: str) -> exp.Expression:
            value = exp.column(column, quoted=True)
            if column.lower() not in changed:
                return value
            new = exp.If(this=condition.copy(), true=changed[column.lower()].copy())
            return exp.alias_(exp.Case(ifs=[new], default=value), column, quoted=True)

        select = exp.select(*map(after, columns_of(f"SELECT * FROM `{table}`"))).from_(exp.to_table(table))
        return SparkStatement("update", query_to_spark(select, columns_of), table)
    if isinstance(tree, exp.Alter) and tree.args.get("kind") == "TABLE":
        renames = [a for a in tree.args.get("actions") or [] if isinstance(a, exp.AlterRename)]
        if len(renames) == 1:
            return SparkStatement("rename", name=tree.this.name, target=renames[0].this.name)
    if isinstance(tree, exp.Drop) and tree.args.get("kind") in ("TABLE", "VIEW"):
        return SparkStatement("drop", name=tree.find(exp.Table).name, if_exists=bool(tree.args.get("exists")))
    if isinstance(tree, exp.Copy):
        formats = {p.this.name.upper(): p.expression.name.lower() for p in tree.args.get("params") or []
                   if isinstance(p, exp.CopyParameter) and p.expression is not None}
        if formats.get("FORMAT") != "parquet" or not isinstance(tree.this, exp.Subquery):
            raise NotImplementedError("Spark: only COPY (query) TO 'file' (FORMAT parquet) is translated")
        return SparkStatement("copy", query_to_spark(tree.this.this, columns_of),
                              target=tree.args["files"][0].name)
    if isinstance(tree, exp.Query | exp.Describe | exp.Show):
        return SparkStatement("sql", query_to_spark(tree, columns_of))
    raise NotImplementedError(f"Spark: no translation for {statement_kind(tree)} statements")


def _generate(tree: exp.Expression) -> str:
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


# --- star modifiers and BY NAME unions (need the columns of the input) ---------------------------
def _expand_star_modifiers(select: exp.Select, columns_of: ColumnsOf) -> None:
    for position, item in enumerate(select.expressions):
        star = item.this if isinstance(item, exp.Column) and isinstance(item.this, exp.Star) else item
        if not isinstance(star, exp.Star) or not (star.args.get("replace") or star.args.get("except_")):
            continue
        qualifier = item.table if isinstance(item, exp.Column) else ""
        probe = select.copy()
        probe.set("expressions", [exp.Column(this=exp.Star(), table=exp.to_identifier(qualifier))
                                  if qualifier else exp.Star()])
        for clause in ("where", "group", "having", "order", "limit", "distinct"):
            probe.set(clause, None)
        columns = columns_of(_generate(_rewritten(probe)))
        excluded = {c.name.lower() for c in star.args.get("except_") or []}
        replaced = {r.alias.lower(): r for r in star.args.get("replace") or []}
        expanded = []
        for name in columns:
            if name.lower() in excluded:
                continue
            if name.lower() in replaced:
                expanded.append(replaced[name.lower()].copy())
            else:
                expanded.append(exp.column(name, table=qualifier or None, quoted=True))
        select.set("expressions", [*select.expressions[:position], *expanded, *select.expressions[position + 1:]])
        return _expand_star_modifiers(select, columns_of)  # positions moved: look again


def _union_by_name(union: exp.Union, columns_of: ColumnsOf) -> None:
    """DuckDB's BY NAME: the left side's columns, then the right side's others; missing ones NULL."""
    left, right = union.this, union.expression
    left_columns = columns_of(_generate(_rewritten(left)))
    right_columns = columns_of(_generate(_rewritten(right)))
    every = left_columns + [c for c in right_columns if c.lower() not in {n.lower() for n in left_columns}]

    def side(query: exp.Expression, has: list[str]) -> exp.Select:
        present = {c.lower() for c in has}
        return exp.select(*[exp.column(c, quoted=True) if c.lower() in present
                            else exp.alias_(exp.null(), c, quoted=True) for c in every]).from_(query.subquery())

    union.set("this", side(left, left_columns))
    union.set("expression", side(right, right_columns))
    union.set("by_name", None)


# --- expressions -------------------------------------------------------------------------------
def _rewritten(tree: exp.Expression) -> exp.Expression:
    """A copy of `tree` with every node rewritten, children first (sqlglot's transform() does
    not descend into a node it has just replaced)."""
    tree = tree.copy()
    for node in reversed(list(tree.walk(bfs=False))):
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                return new
            node.replace(new)
    return tree


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _string(node: exp.Expression | None, what: str) -> str:
    if not isinstance(node, exp.Literal) or not node.is_string:
        raise NotImplementedError(f"Spark: {what} must be a string literal")
    return node.this


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.RegexpFullMatch):
        pattern = r"\A(?:" + java_regex(_string(node.expression, "a pattern")) + r")\z"
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(pattern))
    if isinstance(node, exp.RegexpLike):
        flags = _string(node.args["flag"], "regexp options") if node.args.get("flag") else ""
        pattern = _flags(flags) + java_regex(_string(node.expression, "a pattern"))
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(pattern))
    if isinstance(node, exp.RegexpReplace):
        return _regexp_replace(node)
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "strlen":  # bytes; length() counts characters in both
            return _fn("octet_length", *node.expressions)
        if name == "hash":  # 64 bits like DuckDB's (Spark's hash() is 32-bit: more collisions)
            return _fn("xxhash64", *node.expressions)
        if name == "try_strptime":
            return _try_strptime(node)
        if name == "list_position":  # DuckDB: NULL when absent; Spark's array_position: 0
            return exp.Nullif(this=_fn("array_position", *node.expressions), expression=exp.Literal.number(0))
        if name.startswith("read_"):
            raise NotImplementedError(f"Spark: {name}() is not translated; register the files instead")
    if isinstance(node, exp.ToMap) and isinstance(node.this, exp.Bracket):  # MAP {..}[key] parses inside out
        struct, key = node.this.this, node.this.expressions[0]
        entries = [part for pair in struct.expressions for part in (pair.this, pair.expression)]
        return _fn("try_element_at", _fn("map", *entries), key)
    if isinstance(node, exp.ArrayToString):  # DuckDB: NULL for a list of NULLs only; Spark: ''
        return _ARRAY_TO_STRING.transform(lambda n: {"__list": node.this, "__sep": node.expression}.get(
            n.name, n).copy() if isinstance(n, exp.Column) else n)
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.TIMESTAMPTZ):
        return exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMP_LTZ", dialect="spark"))
    return node


_ARRAY_TO_STRING = sqlglot.parse_one(
    "CASE WHEN exists(__list, _e -> _e IS NOT NULL) OR size(__list) = 0 THEN array_join(__list, __sep) END",
    read="spark")


def _flags(flags: str) -> str:
    unknown = set(flags) - {"g", "i"}
    if unknown:
        raise NotImplementedError(f"Spark: regexp options {''.join(sorted(unknown))!r} are not translated")
    return "(?iu)" if "i" in flags else ""  # RE2's (?i) folds Unicode case; Java's needs u


def _regexp_replace(node: exp.RegexpReplace) -> exp.Expression:
    flags = _string(node.args["modifiers"], "regexp options") if node.args.get("modifiers") else ""
    pattern = java_regex(_string(node.expression, "a pattern"))
    replacement = _string(node.args.get("replacement"), "a replacement")
    if re.search(r"\\[0-9]", replacement):
        raise NotImplementedError("Spark: back-references in regexp_replace replacements are not translated")
    replacement = replacement.replace("\\", "\\\\").replace("$", "\\$")
    if "g" not in flags:
        # DuckDB replaces the first match only, Spark every one: the shortest prefix before a match
        # is kept as group 1, and the anchor lets the pattern match once.
        pattern, replacement = r"\A(?s:(.*?))(?:" + pattern + ")", "$1" + replacement
    return exp.RegexpReplace(this=node.this, expression=exp.Literal.string(_flags(flags) + pattern),
                             replacement=exp.Literal.string(replacement))


_STRFTIME_TO_JAVA = {"Y": "yyyy", "y": "yy", "m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s",
                     "f": "SSSSSS", "p": "a", "b": "MMM", "B": "MMMM", "%": "%"}
"""strftime directive -> Spark datetime pattern; one letter for numbers (Spark then reads one or
two digits, as DuckDB's strptime does)"""


def java_datetime_pattern(strftime: str) -> str:
    out, literal = [], []

    def flush() -> None:
        if literal:
            text = "".join(literal).replace("'", "''")
            out.append(f"'{text}'" if re.search(r"[A-Za-z']", text) else text)
            literal.clear()

    i = 0
    while i < len(strftime):
        ch = strftime[i]
        if ch == "%" and i + 1 < len(strftime):
            directive = strftime[i + 1]
            if directive not in _STRFTIME_TO_JAVA:
                raise NotImplementedError(f"Spark: strptime format %{directive} is not translated")
            if directive == "%":
                literal.append("%")
            else:
                flush()
                out.append(_STRFTIME_TO_JAVA[directive])
            i += 2
        else:
            literal.append(ch)
            i += 1
    flush()
    return "".join(out)


def _try_strptime(node: exp.Anonymous) -> exp.Expression:
    value, formats = node.expressions
    items = formats.expressions if isinstance(formats, exp.Array) else [formats]
    attempts = [_fn("try_to_timestamp", value.copy(), exp.Literal.string(java_datetime_pattern(_string(f, "a format"))))
                for f in items]
    # the session time zone is UTC, so the wall-clock time is kept as DuckDB's TIMESTAMP does
    return exp.Cast(this=exp.Coalesce(this=attempts[0], expressions=attempts[1:]),
                    to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))


# --- regular expressions: RE2 -> java.util.regex -------------------------------------------------
_SPACE_RE2 = r"\t\n\f\r "  # RE2's \s; Java's also holds \x0B


def java_regex(pattern: str) -> str:
    """The same matches under java.util.regex as `pattern` under RE2, for the syntax our SQL uses.

    Differences handled: `$` (Java's also matches before a final line break), `\\s` and `\\v`
    (Java's \\s adds VT, its \\v is every vertical space), `[` and `&&` inside a class (Java nests
    and intersects classes); `\\x{..}`, `\\p{..}`, `\\d` and `(?:` mean the same in both."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in "pPx" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                end = pattern.index("}", i) + 1
                out.append(pattern[i:end])
                i = end
                continue
            if nxt == "s":
                out.append(_SPACE_RE2 if in_class else f"[{_SPACE_RE2}]")
            elif nxt == "v":
                out.append(r"\x{000B}")
            elif nxt in "CQE":
                raise NotImplementedError(f"Spark: regex escape \\{nxt} is not translated")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[" and pattern.startswith("[:", i):
                raise NotImplementedError("Spark: POSIX classes ([:alpha:]) are not translated")
            if ch == "[":
                out.append(r"\[")
            elif ch == "&" and pattern.startswith("&&", i):
                out.append(r"&\&")
                i += 2
                continue
            elif ch == "]":
                in_class = False
                out.append(ch)
            else:
                out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):  # a leading ] is a literal in RE2
                out.append(r"\]")
                i += 1
        elif ch == "$":
            out.append(r"\z")
        else:
            out.append(ch)
        i += 1
    return "".join(out)

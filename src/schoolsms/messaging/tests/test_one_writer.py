"""transitions.py is the only module that writes a message row's result, reason, sent_at,
delivered_at or carrier_message_id: the source tree is read for writes anywhere else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # src/schoolsms
OWNER = PACKAGE / "messaging" / "transitions.py"
COLUMNS = ("result", "reason", "sent_at", "delivered_at", "carrier_message_id")
# Other models have a `reason` (the block list) or a `sent_at` (reminder emails); only code that
# can reach message rows (messaging and the carriers) is held to those two.
MESSAGE_AREAS = ("messaging", "carriers")
UNAMBIGUOUS = ("result", "delivered_at", "carrier_message_id")
SQL_WRITE = re.compile(
    r"\bSET\b[^;]*?\b(" + "|".join(COLUMNS) + r")\s*=(?!=)"
    r"|\bINSERT\s+INTO\s+\S*messaging_message\b",
    re.IGNORECASE | re.DOTALL,
)
ORM_WRITES = {"update", "create", "bulk_create", "bulk_update", "update_or_create"}


def _sources() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != OWNER and "tests" not in path.parts and "migrations" not in path.parts
    ]


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal, f-strings with their placeholders as {}."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    return found


def _receiver(func: ast.Attribute) -> str | None:
    """The model a call like `InboundText.objects.create(...)` is made on (other models have
    a carrier_message_id or a reason of their own); None when the chain starts from a
    variable (`rows.update(...)`), which may hold message rows."""
    node: ast.expr = func
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    if isinstance(node, ast.Name) and node.id[:1].isupper():
        return node.id
    return None


def writes_in(source: str, *, where: str, area: str) -> list[str]:
    """The writes of the lifecycle columns in one module's source (`area`: its app)."""
    columns = COLUMNS if area in MESSAGE_AREAS else UNAMBIGUOUS
    tree = ast.parse(source)
    problems = []
    for node in ast.walk(tree):
        # Message.objects....update(result=...), .create(reason=...), ...
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ORM_WRITES
            and _receiver(node.func) in ("Message", None)
        ):
            for keyword in node.keywords:
                if keyword.arg in columns:
                    problems.append(f"{where}:{node.lineno} .{node.func.attr}({keyword.arg}=)")
        # message.result = ... (then save())
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in columns:
                    problems.append(f"{where}:{node.lineno} .{target.attr} =")
    for line, text in _strings(tree):
        match = SQL_WRITE.search(text)
        if match and (match.group(1) is None or match.group(1).lower() in columns):
            problems.append(f"{where}:{line} SQL {match.group(0)[:60]!r}")
    return problems


def test_only_transitions_writes_the_lifecycle_columns() -> None:
    problems = []
    for path in _sources():
        where = path.relative_to(PACKAGE)
        problems += writes_in(
            path.read_text(encoding="utf-8"), where=str(where), area=where.parts[0]
        )
    assert problems == []


def test_the_check_finds_each_kind_of_write() -> None:
    """The check itself: a module writing the columns each way is caught."""
    samples = {
        "orm": "Message.objects.filter(pk=1).update(result='sent')\n",
        "create": "Message.objects.create(reason='blocked')\n",
        "variable": "rows = Message.objects.filter(pk=1)\nrows.update(carrier_message_id='SM1')\n",
        "other_model": "InboundText.objects.create(carrier_message_id='SM1')\n",
        "attribute": "message.delivered_at = now\nmessage.save()\n",
        "sql": 'sql = f"UPDATE {table} SET sent_at = %s WHERE id = %s"\n',
        "insert": "sql = 'INSERT INTO messaging_message (result) SELECT 1'\n",
        "read": "rows = Message.objects.filter(result='sent').values('reason')\n",
    }
    caught = {
        name for name, text in samples.items() if writes_in(text, where=name, area="messaging")
    }
    assert caught == {"orm", "create", "variable", "attribute", "sql", "insert"}
    # Elsewhere, `reason` and `sent_at` belong to other models (the block list, reminders).
    assert not writes_in(samples["create"], where="create", area="consent")

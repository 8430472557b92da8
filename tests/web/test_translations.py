"""Every message the code marks for translation has its Chinese text (Chinese is the default)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, str, bool]]:
    entries = []
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        # A plural entry's (one) form is msgstr[0]: Chinese has a single plural form.
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        join = lambda m: "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))  # noqa: E731
        entries.append((join(msgid), join(msgstr), "#, fuzzy" in block))
    return entries


def test_catalogue_is_complete():
    entries = [e for e in _entries(CATALOGUE.read_text(encoding="utf-8")) if e[0]]
    assert len(entries) > 100
    assert [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy] == []


def test_catalogue_covers_the_code(tmp_path):
    """makemessages over the code finds no message missing from the committed catalogue."""
    committed = {e[0] for e in _entries(CATALOGUE.read_text(encoding="utf-8"))}
    result = subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--keyword=_",
            "--keyword=gettext_lazy",
            "--from-code=UTF-8",
            "--output=-",
            *map(str, sorted(ROOT.glob("[gwdrl]*/**/*.py"))),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found = {e[0] for e in _entries(result.stdout) if e[0]}
    assert sorted(found - committed) == []


def test_errors_render_in_chinese_by_default():
    with translation.override("zh-hans"):
        assert translation.gettext("rooms") == "房间"

"""Fill German translations into crowd/translations/de from JSON files of {English id: German}.

    .venv/bin/python scripts/i18n_fill.py FILE.json [FILE.json …]

Run after `make i18n-update` (the new ids are in the catalogue, untranslated), then
`make i18n-compile`. An entry whose placeholders differ from its id's is refused, by name.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "crowd/translations/de/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdr]|\{[a-z_0-9!r:]+\}")


def main(files: list[str]) -> int:
    fills: dict = {}
    for name in files:
        fills.update(json.loads(Path(name).read_text()))
    with PO.open("rb") as handle:
        catalogue = read_po(handle)
    filled, refused = 0, []
    for message in catalogue:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if not key or key not in fills:
            continue
        if (
            message.string
            and not message.fuzzy
            and (not isinstance(message.string, tuple) or all(message.string))
        ):
            continue
        german = fills[key]
        texts = german if isinstance(german, list) else [german]
        if any(sorted(PLACEHOLDER.findall(t)) != sorted(PLACEHOLDER.findall(key)) for t in texts):
            refused.append(key)
            continue
        message.string = tuple(texts) if isinstance(message.id, tuple) else texts[0]
        message.flags.discard("fuzzy")
        filled += 1
    with PO.open("wb") as handle:
        write_po(handle, catalogue, width=100, omit_header=False, no_location=True)
    missing = [m.id for m in catalogue if m.id and not m.string]
    print(f"{filled} filled; {len(missing)} still untranslated; {len(refused)} refused")
    for key in refused:
        print(f"  placeholders differ: {key!r}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

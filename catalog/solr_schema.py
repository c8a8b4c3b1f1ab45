"""CKAN's Solr schema with Chinese-aware text analysis.

CKAN's stock schema.xml analyses its text fields with a whitespace tokenizer and an English
stemmer: a Chinese title has no spaces, so it becomes a single token and only the exact full
title finds it. This swaps the analyzers of the schema's text field types (`text`: title, notes
and the catch-all `text` field that tags, organization, resource names and every custom field
(`extras_*`: unit_id, unit_name, unit_kind, ...) are copied into; `text_general`: resource name
and description, author, maintainer) for a chain of Lucene's own analysis modules, kept as XML
in catalog/solr/analyzers/<name>.xml. Everything else in CKAN's schema stays as CKAN ships it,
so the schema keeps following the installed CKAN version.

stack.sh runs it with the CKAN venv's Python (standard library only):

    python catalog/solr_schema.py CKAN_SCHEMA_XML ANALYZERS_XML > conf/schema.xml
"""

from __future__ import annotations

import copy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# The field types CKAN's schema uses for free text (see the module docstring for their fields).
TEXT_FIELD_TYPES = ("text", "text_general")


class SchemaError(ValueError):
    """The CKAN schema or the analyzer file is not what this transformation expects."""


def chinese_schema(ckan_schema: str, analyzers: str, *, source: str = "schema.xml",
                   analyzers_source: str = "analyzers.xml") -> str:
    """CKAN's schema.xml text with the index and query analyzers of TEXT_FIELD_TYPES replaced
    by those in `analyzers` (an <analyzers> element holding <analyzer type="index"> and
    <analyzer type="query">). Raises SchemaError naming the file that does not fit."""
    chain = _analyzer_chain(analyzers, analyzers_source)
    root = _parse(ckan_schema, source)
    field_types = {ft.get("name"): ft for ft in root.iter() if ft.tag in ("fieldType", "fieldtype")}
    missing = [name for name in TEXT_FIELD_TYPES if name not in field_types]
    if missing:
        raise SchemaError(f"{source}: no fieldType named {', '.join(missing)}; is it CKAN's Solr schema?")
    for name in TEXT_FIELD_TYPES:
        field_type = field_types[name]
        for old in field_type.findall("analyzer"):
            field_type.remove(old)
        field_type.extend(copy.deepcopy(a) for a in chain)
    note = ET.Comment(f" zwgk: analyzers of {', '.join(TEXT_FIELD_TYPES)} replaced by {analyzers_source} "
                      "(catalog/solr_schema.py) ")
    root.insert(0, note)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _parse(text: str, source: str) -> ET.Element:
    # Comments kept: CKAN's schema documents its fields in them.
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    try:
        return ET.fromstring(text, parser=parser)
    except ET.ParseError as exc:
        raise SchemaError(f"{source}: not well-formed XML: {exc}") from exc


def _analyzer_chain(text: str, source: str) -> list[ET.Element]:
    root = ET.fromstring(text) if text.strip() else None
    if root is None or root.tag != "analyzers":
        raise SchemaError(f"{source}: expected an <analyzers> root element")
    chain = root.findall("analyzer")
    kinds = sorted(a.get("type", "") for a in chain)
    if kinds != ["index", "query"]:
        raise SchemaError(f"{source}: expected one <analyzer type=\"index\"> and one <analyzer type=\"query\">, "
                          f"found types {kinds}")
    for analyzer in chain:
        if len(analyzer.findall("tokenizer")) != 1:
            raise SchemaError(f"{source}: the {analyzer.get('type')} analyzer needs exactly one <tokenizer>")
    return chain


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: solr_schema.py CKAN_SCHEMA_XML ANALYZERS_XML > schema.xml", file=sys.stderr)
        return 2
    schema_path, analyzers_path = map(Path, argv)
    try:
        sys.stdout.write(chinese_schema(schema_path.read_text(encoding="utf-8"),
                                        analyzers_path.read_text(encoding="utf-8"),
                                        source=str(schema_path), analyzers_source=str(analyzers_path)))
    except (OSError, SchemaError) as exc:
        print(f"solr_schema.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

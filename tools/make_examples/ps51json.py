"""Emit JSON exactly as Windows PowerShell 5.1 `ConvertTo-Json` writes it.

Two stages, as in 5.1 (`ConvertToJsonCommand.cs`, FullCLR branch):

1. `ProcessValue(obj, depth)`: walk the value model. Strings, bools, numbers, enums (given as
   ints here), DateTime and null pass through at any depth. Any other object or collection at a
   depth greater than `-Depth` becomes its `ToString()` (a collection: the ToString of its items
   joined with single spaces, which is what `LanguagePrimitives.ConvertTo(obj, string)` does with
   the default `$OFS`). Otherwise an object becomes a dictionary of its properties, each at
   depth + 1, and a collection becomes a list, each element at depth + 1.
2. `JavaScriptSerializer.Serialize` (compact JSON with .NET's JavaScript string escaping and
   `"\\/Date(ms)\\/"` dates), then `ConvertToPrettyJsonString`, the 5.1 re-indenter: CRLF,
   4 spaces per level, two spaces after the colon, nested values aligned under the column where
   the value starts, empty containers as `[` CRLF CRLF `<pad>]`. No trailing newline: that is
   what the cmdlet returns. `Out-File` and `>` then add one CRLF when they write it to a file
   (see `write_utf16le_bom` / `write_utf8_bom`).

Value model:
    None, bool, int, str     as themselves
    list / tuple             a .NET collection (byte[] is a list of ints)
    Obj(props, tostring)     a .NET object: ordered (name, value) properties and its ToString();
                             props may be a zero-argument callable so that recursive object
                             graphs (ADObjectId.Parent/DomainId) are built only as deep as the
                             depth limit reaches
    Date(ms)                 a System.DateTime, as milliseconds since 1970-01-01 UTC
"""

from __future__ import annotations

import codecs
import os
from typing import Callable, Iterable, Sequence, Union

__all__ = [
    "Obj",
    "Date",
    "convert_to_json",
    "process_value",
    "serialize_compact",
    "pretty",
    "ps_tostring",
    "write_utf16le_bom",
    "write_utf8_bom",
    "encode_utf16le_bom",
    "encode_utf8_bom",
]


class Obj:
    """A .NET object: ordered public properties plus what its ToString() returns."""

    __slots__ = ("_props", "tostring")

    def __init__(self, props: Union[Sequence[tuple], Callable[[], Sequence[tuple]]], tostring: str):
        if not isinstance(tostring, str):
            raise TypeError("Obj.tostring must be a str")
        self._props = props
        self.tostring = tostring

    @property
    def props(self) -> list:
        p = self._props
        if callable(p):
            p = p()
            self._props = p
        return list(p)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "Obj(%r)" % (self.tostring,)


class Date:
    """A System.DateTime; JavaScriptSerializer writes it as "\\/Date(ms)\\/" (UTC ms)."""

    __slots__ = ("ms",)

    def __init__(self, ms: int):
        if not isinstance(ms, int) or isinstance(ms, bool):
            raise TypeError("Date.ms must be an int")
        self.ms = ms

    def __repr__(self) -> str:  # pragma: no cover
        return "Date(%d)" % self.ms


class _DateOut:
    """A processed DateTime, kept apart from strings so the serializer can write it."""

    __slots__ = ("ms",)

    def __init__(self, ms: int):
        self.ms = ms


def ps_tostring(value) -> str:
    """What PowerShell's string conversion (InvariantCulture) gives for a value of the model."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Obj):
        return value.tostring
    if isinstance(value, (list, tuple)):
        # LanguagePrimitives: an IEnumerable becomes its items joined with $OFS (" ").
        return " ".join(ps_tostring(v) for v in value)
    if isinstance(value, Date):
        raise NotImplementedError("DateTime.ToString() past the depth limit is not modelled")
    raise TypeError("value of type %s is not in the model" % type(value).__name__)


def process_value(value, depth: int, max_depth: int):
    """ConvertToJsonCommand.ProcessValue for the value model."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Date):
        return _DateOut(value.ms)
    if isinstance(value, float):
        raise TypeError("floating-point values are not modelled")
    if isinstance(value, (Obj, list, tuple)):
        if depth > max_depth:
            return ps_tostring(value)
        if isinstance(value, Obj):
            out = []
            seen = set()
            for name, v in value.props:
                if name in seen:
                    raise ValueError("duplicate property %r" % name)
                seen.add(name)
                out.append((name, process_value(v, depth + 1, max_depth)))
            return _Dict(out)
        return [process_value(v, depth + 1, max_depth) for v in value]
    raise TypeError("value of type %s is not in the model" % type(value).__name__)


class _Dict(list):
    """An ordered dictionary after processing: a list of (key, value) pairs."""


# --- JavaScriptSerializer ------------------------------------------------------------------

_SIMPLE_ESCAPES = {
    "\r": "\\r",
    "\t": "\\t",
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\b": "\\b",
    "\f": "\\f",
}


def _requires_encoding(c: str) -> bool:
    # HttpUtility.CharRequiresJavaScriptEncoding (.NET Framework 4.x)
    o = ord(c)
    return (
        o < 0x20
        or c in "\"\\'<>&"
        or c in "\u0085\u2028\u2029"
    )


def js_string(s: str) -> str:
    """JavaScriptSerializer string: HttpUtility.JavaScriptStringEncode between double quotes."""
    out = ['"']
    for c in s:
        if _requires_encoding(c):
            esc = _SIMPLE_ESCAPES.get(c)
            out.append(esc if esc is not None else "\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def serialize_compact(v) -> str:
    """JavaScriptSerializer.Serialize of a processed value."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return js_string(v)
    if isinstance(v, _DateOut):
        return '"\\/Date(%d)\\/"' % v.ms
    if isinstance(v, _Dict):
        return "{" + ",".join(js_string(k) + ":" + serialize_compact(x) for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ",".join(serialize_compact(x) for x in v) + "]"
    raise TypeError("cannot serialize %r" % (v,))


# --- ConvertToPrettyJsonString (5.1 re-indenter, ported) --------------------------------------


def _indent(n: int) -> str:
    return " " * (4 * n)


def pretty(json: str) -> str:
    """ConvertToPrettyJsonString: re-indent compact JSON the way Windows PowerShell 5.1 does."""
    if not (json.startswith("{") or json.startswith("[")):
        return json
    out: list = []
    if json.startswith("{"):
        out.append("{")
        _convert_dictionary(json, 1, out, "", 0)
    else:
        out.append("[")
        _convert_list(json, 1, out, "", 0)
    return "".join(out)


def _convert_quoted_string(json: str, index: int, out: list) -> int:
    i = index
    n = len(json)
    while i < n:
        out.append(json[i])
        if json[i] == '"':
            # The quote ends the string unless an odd number of backslashes precede it.
            j = i
            escaped = False
            while j > 0:
                j -= 1
                if json[j] != "\\":
                    break
                escaped = not escaped
            if not escaped:
                return i
        i += 1
    raise ValueError("unterminated string in JSON")


def _convert_list(json: str, index: int, out: list, pad: str, spaces: int) -> int:
    out.append("\r\n")
    new_pad = pad + " " * spaces + _indent(1)
    head = True
    i = index
    n = len(json)
    while i < n:
        c = json[i]
        if c == "{":
            out.append(new_pad)
            out.append(c)
            i = _convert_dictionary(json, i + 1, out, new_pad, 0)
            head = False
        elif c == "[":
            out.append(new_pad)
            out.append(c)
            i = _convert_list(json, i + 1, out, new_pad, 0)
            head = False
        elif c == "]":
            out.append("\r\n")
            out.append(pad)
            out.append(" " * spaces)
            out.append(c)
            return i
        elif c == '"':
            if head:
                out.append(new_pad)
            out.append(c)
            i = _convert_quoted_string(json, i + 1, out)
            head = False
        elif c == ",":
            out.append(c)
            out.append("\r\n")
            head = True
        else:
            if head:
                out.append(new_pad)
            out.append(c)
            head = False
        i += 1
    raise ValueError("list not closed")


def _convert_dictionary(json: str, index: int, out: list, pad: str, spaces: int) -> int:
    out.append("\r\n")
    new_pad = pad + " " * spaces + _indent(1)
    head = True
    before_quote = True
    new_space_count = 0
    space_after_colon = 2
    i = index
    n = len(json)
    while i < n:
        c = json[i]
        if c == "{":
            out.append(c)
            i = _convert_dictionary(json, i + 1, out, new_pad, new_space_count)
            head = False
        elif c == "[":
            out.append(c)
            i = _convert_list(json, i + 1, out, new_pad, new_space_count)
            head = False
        elif c == "}":
            out.append("\r\n")
            out.append(pad)
            out.append(" " * spaces)
            out.append(c)
            return i
        elif c == '"':
            if head:
                out.append(new_pad)
            out.append(c)
            end = _convert_quoted_string(json, i + 1, out)
            if before_quote:
                new_space_count += end - i + 1
            i = end
            head = False
        elif c == ":":
            out.append(c)
            out.append(" " * space_after_colon)
            new_space_count += 3
            head = False
            before_quote = False
        elif c == ",":
            out.append(c)
            out.append("\r\n")
            head = True
            before_quote = True
            new_space_count = 0
        else:
            if head:
                out.append(new_pad)
            out.append(c)
            if before_quote:
                new_space_count += 1
            head = False
        i += 1
    raise ValueError("dictionary not closed")


# --- the cmdlet ------------------------------------------------------------------------------


def convert_to_json(input_objects, depth: int = 2, *, input_object_param: bool = False) -> str:
    """`... | ConvertTo-Json [-Depth n]` (or `ConvertTo-Json -InputObject x`) in Windows PowerShell 5.1.

    input_objects: the objects that arrive on the pipeline, as a Python list. One object is
    converted bare; several become a root array whose elements sit at depth 1. Null pipeline
    input is skipped (ProcessRecord ignores it); nothing at all gives None (no output).

    input_object_param=True models `ConvertTo-Json -InputObject <value>`: input_objects is then
    the single value itself (for example the array made by `@($objects)`), so a root array is
    kept even with one element, and an empty array gives "[" CRLF CRLF "]".
    """
    if depth < 1 or depth > 100:
        raise ValueError("-Depth must be 1..100 in Windows PowerShell 5.1")
    if input_object_param:
        if input_objects is None:
            return None
        root = input_objects
    else:
        items = [o for o in input_objects if o is not None]
        if not items:
            return None
        root = items[0] if len(items) == 1 else list(items)
    processed = process_value(root, 0, depth)
    return pretty(serialize_compact(processed))


# --- writers ---------------------------------------------------------------------------------


def encode_utf16le_bom(text: str, newline: bool = True) -> bytes:
    """Bytes of `ConvertTo-Json > file` in 5.1: Out-File, UTF-16LE with BOM, plus one CRLF."""
    if newline:
        text = text + "\r\n"
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def encode_utf8_bom(text: str, newline: bool = True) -> bytes:
    """Bytes of `... | Out-File -Encoding utf8` in 5.1: UTF-8 with BOM, plus one CRLF."""
    if newline:
        text = text + "\r\n"
    return codecs.BOM_UTF8 + text.encode("utf-8")


def _write(path: str, data: bytes) -> None:
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_utf16le_bom(path: str, text: str, newline: bool = True) -> None:
    """Write what Windows PowerShell 5.1 `ConvertTo-Json > file` writes.

    `>` is Out-File: UTF-16LE with a BOM, and Out-File ends every string it writes with CRLF
    (that is why 5.0 added -NoNewline). Pass newline=False for the bare cmdlet output.
    """
    _write(path, encode_utf16le_bom(text, newline))


def write_utf8_bom(path: str, text: str, newline: bool = True) -> None:
    """Write what Windows PowerShell 5.1 `... | Out-File -Encoding utf8` writes (BOM, CRLF end)."""
    _write(path, encode_utf8_bom(text, newline))

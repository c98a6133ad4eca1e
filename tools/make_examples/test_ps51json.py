"""Rebuild the reference samples R1, R2 and R3 from value models and compare byte for byte.

The samples are Windows PowerShell 5.1 `ConvertTo-Json` text (UTF-8 without BOM, CRLF, no
trailing newline): the cmdlet's output before Out-File writes it. Run:

    python3 tools/make_examples/test_ps51json.py            (or: python3 -m pytest tools/make_examples)

The samples directory defaults to /work/shared/reference/samples, falling back to the copies in
tests/fixtures/samples; set HYBRIDTLS_SAMPLES to point elsewhere.
"""

from __future__ import annotations

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep __pycache__ out of the repository

from exchange_types import (  # noqa: E402
    RESOURCE_PARTITION_GUID,
    ad_object_id,
    config_nc,
    fqdn,
    ip_binding,
    ip_range,
    receive_connector_dn,
    server_dn,
    smtp_domain_with_subdomains,
    smtp_receive_domain_capabilities,
    smtp_x509_identifier,
)
from ps51json import (  # noqa: E402
    Date,
    Obj,
    convert_to_json,
    encode_utf16le_bom,
    encode_utf8_bom,
    pretty,
    serialize_compact,
    process_value,
)


def _samples_dir() -> str:
    env = os.environ.get("HYBRIDTLS_SAMPLES")
    if env:
        return env
    for d in (
        "/work/shared/reference/samples",
        os.path.join(HERE, "..", "..", "tests", "fixtures", "samples"),
    ):
        if os.path.isfile(os.path.join(d, "R1_ps51_single_cert.json")):
            return d
    raise unittest.SkipTest("reference samples not found; set HYBRIDTLS_SAMPLES")


def _read(name: str) -> bytes:
    with open(os.path.join(_samples_dir(), name), "rb") as f:
        return f.read()


def _row(props) -> Obj:
    """A Select-Object row (PSCustomObject); its ToString is never needed at these depths."""
    return Obj(props, "@{...}")


CERT_FIELDS = (
    "Thumbprint Subject Issuer FriendlyName NotBefore NotAfter HasPrivateKey IsSelfSigned "
    "Status Services RootCAType CertificateDomains PublicKeySize SerialNumber Identity"
).split()


def _cert_row(**kw) -> Obj:
    return _row([(k, kw[k]) for k in CERT_FIELDS])


def cert_mail_contoso_lab() -> Obj:
    thumb = "2759456DC53C76E3DED093B567B6D8DAA42C0ADD"
    return _cert_row(
        Thumbprint=thumb,
        Subject="CN=mail.contoso.lab",
        Issuer="CN=mail.contoso.lab",
        FriendlyName="Microsoft Exchange",
        NotBefore=Date(1662388862000),
        NotAfter=Date(1820155262000),
        HasPrivateKey=True,
        IsSelfSigned=True,
        Status=1,
        Services=8,
        RootCAType=3,
        CertificateDomains=[
            smtp_domain_with_subdomains(d)
            for d in (
                "mail.contoso.lab",
                "autodiscover.contoso.lab",
                "e2k16-1.contoso.lab",
                "e2k16-2.contoso.lab",
            )
        ],
        PublicKeySize=2048,
        SerialNumber="114127F15159879440EC068324801D00",
        Identity="E2k16-1.Contoso.lab\\" + thumb,
    )


def cert_e2k16_1() -> Obj:
    thumb = "D003810EBE1624145889D031FBB77ED2BD280FD3"
    return _cert_row(
        Thumbprint=thumb,
        Subject="CN=E2k16-1",
        Issuer="CN=E2k16-1",
        FriendlyName="Microsoft Exchange",
        NotBefore=Date(1672411148000),
        NotAfter=Date(1830177548000),
        HasPrivateKey=True,
        IsSelfSigned=True,
        Status=1,
        Services=25,
        RootCAType=0,
        CertificateDomains=[smtp_domain_with_subdomains(d) for d in ("E2k16-1", "E2k16-1.Contoso.lab")],
        PublicKeySize=2048,
        SerialNumber="69FC45493FF2248140DD9D53B4D92957",
        Identity="E2k16-1.Contoso.lab\\" + thumb,
    )


RC_FIELDS = (
    "Identity Name Server TransportRole Bindings Fqdn TlsCertificateName TlsDomainCapabilities "
    "AuthMechanism PermissionGroups RequireTLS Enabled ProtocolLoggingLevel RemoteIPRanges"
).split()

ALL_RANGES = ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0.0.0.0-255.255.255.255"]


def receive_connectors_r3() -> list:
    server = "WIN-CTD3L0RGEN4"
    cnc = config_nc("exlab.dom")
    org = "First Organization"
    rows = []
    for name, port, tcn, caps, auth, perms, logging in (
        (
            "Default Frontend " + server,
            25,
            smtp_x509_identifier("CN=" + server, "CN=" + server),
            [smtp_receive_domain_capabilities("fabrikam.com", "AcceptCloudServicesMail")],
            31,
            13,
            1,
        ),
        ("Client Frontend " + server, 587, None, [], 15, 2, 0),
    ):
        values = {
            "Identity": ad_object_id(
                receive_connector_dn(name, server, org, cnc),
                object_guid="7849c4d3-e168-483e-8ea8-836875117e4e",
                partition_guid=RESOURCE_PARTITION_GUID,
            ),
            "Name": name,
            "Server": ad_object_id(server_dn(server, org, cnc)),
            "TransportRole": 16384,
            "Bindings": [ip_binding("::", port), ip_binding("0.0.0.0", port)],
            "Fqdn": fqdn(server + ".exlab.dom"),
            "TlsCertificateName": tcn,
            "TlsDomainCapabilities": caps,
            "AuthMechanism": auth,
            "PermissionGroups": perms,
            "RequireTLS": False,
            "Enabled": True,
            "ProtocolLoggingLevel": logging,
            "RemoteIPRanges": [ip_range(r) for r in ALL_RANGES],
        }
        rows.append(_row([(k, values[k]) for k in RC_FIELDS]))
    return rows


def _first_difference(a: bytes, b: bytes) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "first difference at byte %d: got %r, want %r" % (i, a[i : i + 40], b[i : i + 40])
    return "lengths differ: got %d bytes, want %d" % (len(a), len(b))


class ReferenceSamples(unittest.TestCase):
    def check(self, text: str, sample: str):
        got = text.encode("utf-8")
        want = _read(sample)
        self.assertTrue(got == want, sample + ": " + _first_difference(got, want))

    def test_r1_single_certificate(self):
        self.check(convert_to_json([cert_mail_contoso_lab()]), "R1_ps51_single_cert.json")

    def test_r2_two_certificates(self):
        self.check(convert_to_json([cert_mail_contoso_lab(), cert_e2k16_1()]), "R2_ps51_two_certs.json")

    def test_r3_receive_connectors(self):
        self.check(convert_to_json(receive_connectors_r3()), "R3_ps51_receive_connectors.json")


class Behaviour(unittest.TestCase):
    def test_escaping(self):
        s = serialize_compact(process_value("<I>Let's & \"q\" \\ \x01\t\u2028/", 0, 2))
        self.assertEqual(s, '"\\u003cI\\u003eLet\\u0027s \\u0026 \\"q\\" \\\\ \\u0001\\t\\u2028/"')

    def test_date(self):
        self.assertEqual(serialize_compact(process_value(Date(-1), 0, 2)), '"\\/Date(-1)\\/"')

    def test_depth_cut_object_and_list(self):
        inner = Obj([("A", 1)], "inner")
        row = _row([("O", Obj([("P", inner)], "outer")), ("B", [1, 2, 3]), ("L", [[inner, 7]])])
        # one root object: O at 1, P at 2 (object), A at 3 (primitive)
        one = convert_to_json([row], depth=1)
        self.assertIn('"P":  "inner"', one)
        # a list past the depth: items' ToStrings joined with spaces (byte[] -> "1 2 3")
        self.assertIn('"B":  "1 2 3"', convert_to_json([_row([("X", Obj([("B", [1, 2, 3])], "x"))])], depth=1))
        # a list inside a list: the inner list past the depth is joined ToStrings
        self.assertIn('"inner 7"', convert_to_json([row], depth=1))
        self.assertIn('"inner",', convert_to_json([row], depth=2))

    def test_empty_containers(self):
        self.assertEqual(convert_to_json([_row([("E", [])])]), '{\r\n    "E":  [\r\n\r\n          ]\r\n}')
        self.assertEqual(convert_to_json([], input_object_param=True), "[\r\n\r\n]")
        self.assertIsNone(convert_to_json([]))

    def test_input_object_keeps_array(self):
        text = convert_to_json([_row([("A", 1)])], input_object_param=True)
        self.assertTrue(text.startswith("[\r\n    {\r\n        \"A\":  1\r\n    }\r\n]"))

    def test_quoted_brackets_do_not_reindent(self):
        self.assertEqual(pretty('{"a":"[{,:}]\\\\"}'), '{\r\n    "a":  "[{,:}]\\\\"\r\n}')

    def test_writers(self):
        self.assertEqual(encode_utf16le_bom("{}"), b"\xff\xfe{\x00}\x00\r\x00\n\x00")
        self.assertEqual(encode_utf8_bom("[]"), b"\xef\xbb\xbf[]\r\n")
        self.assertEqual(encode_utf8_bom("[]", newline=False), b"\xef\xbb\xbf[]")


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Certificates: build them (python `cryptography`) and read them the way .NET shows them.

.NET forms reproduced here:
  Subject / Issuer   X500DistinguishedName.Format(false) / CertNameToStr(CERT_X500_NAME_STR |
                     CERT_NAME_STR_REVERSE_FLAG): most specific RDN first, ", " between RDNs,
                     keys CN OU O L S C E DC STREET SERIALNUMBER G SN T I, values containing
                     , + = " < > # ; CR LF or leading/trailing spaces in double quotes ("" inside)
  Thumbprint         uppercase hex SHA-1 of the DER
  SerialNumber       uppercase hex of the serial's DER INTEGER content bytes (big-endian, with the
                     leading 00 when the DER has one)
  NotBefore/NotAfter the DER validity, as ms since 1970-01-01 UTC ("\\/Date(ms)\\/")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from typing import List, Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = dt.timezone.utc

_KEY_TO_OID = {
    "CN": NameOID.COMMON_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "L": NameOID.LOCALITY_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "C": NameOID.COUNTRY_NAME,
}
_OID_TO_KEY = {
    "2.5.4.3": "CN",
    "2.5.4.11": "OU",
    "2.5.4.10": "O",
    "2.5.4.7": "L",
    "2.5.4.8": "S",
    "2.5.4.6": "C",
    "1.2.840.113549.1.9.1": "E",
    "0.9.2342.19200300.100.1.25": "DC",
    "2.5.4.9": "STREET",
    "2.5.4.5": "SERIALNUMBER",
    "2.5.4.42": "G",
    "2.5.4.4": "SN",
    "2.5.4.12": "T",
    "2.5.4.43": "I",
}
_NEEDS_QUOTES = set(',+="<>#;\r\n')


def parse_display_dn(text: str) -> List[Tuple[str, str]]:
    """Split a .NET display DN ("CN=a, O=\"b, c\", C=US") into [(key, value)], display order."""
    out = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] == " ":
            i += 1
        eq = text.index("=", i)
        key = text[i:eq].strip()
        i = eq + 1
        if i < n and text[i] == '"':
            i += 1
            val = []
            while True:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        val.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                val.append(text[i])
                i += 1
            value = "".join(val)
            while i < n and text[i] == " ":
                i += 1
        else:
            j = text.find(",", i)
            if j < 0:
                j = n
            value = text[i:j].strip()
            i = j
        out.append((key, value))
        if i < n:
            if text[i] != ",":
                raise ValueError("bad DN %r at %d" % (text, i))
            i += 1
    return out


def build_name(display_dn: str) -> x509.Name:
    """x509.Name whose .NET display form is display_dn (so the DER order is the reverse)."""
    attrs = [x509.NameAttribute(_KEY_TO_OID[k], v) for k, v in parse_display_dn(display_dn)]
    return x509.Name(list(reversed(attrs)))


def _quote(value: str) -> str:
    if value == "" or value != value.strip(" ") or any(c in _NEEDS_QUOTES for c in value):
        return '"' + value.replace('"', '""') + '"'
    return value


def dotnet_dn(name: x509.Name) -> str:
    rdns = []
    for rdn in reversed(list(name.rdns)):
        parts = []
        for attr in rdn:
            key = _OID_TO_KEY.get(attr.oid.dotted_string, "OID." + attr.oid.dotted_string)
            parts.append("%s=%s" % (key, _quote(str(attr.value))))
        rdns.append(" + ".join(parts))
    return ", ".join(rdns)


def thumbprint(der: bytes) -> str:
    return hashlib.sha1(der).hexdigest().upper()


def dotnet_serial(cert: x509.Certificate) -> str:
    n = cert.serial_number
    return n.to_bytes(n.bit_length() // 8 + 1, "big").hex().upper()


def epoch_ms(when: dt.datetime) -> int:
    return int((when - dt.datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1000


def san_dns_names(cert: x509.Certificate) -> List[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return ext.value.get_values_for_type(x509.DNSName)


_DNS_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _is_valid_dns_name(name: str) -> bool:
    # System.Net Dns.IsValidName / IsValidWildcardName, close enough for these names
    if name.startswith("*."):
        name = name[2:]
        if not name:
            return False
    labels = name.split(".")
    return all(_DNS_LABEL.match(l) for l in labels) and len(name) <= 255


def certificate_domains(cert: x509.Certificate) -> List[str]:
    """TlsCertificateInfo.GetFQDNs: the subject CN (if a valid DNS name), then the SAN DNS
    names, skipping case-insensitive duplicates (ExchangeCertificate.CertificateDomains)."""
    out: List[str] = []
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns and _is_valid_dns_name(str(cns[-1].value)):
        out.append(str(cns[-1].value))
    for n in san_dns_names(cert):
        if _is_valid_dns_name(n) and not any(n.lower() == o.lower() for o in out):
            out.append(n)
    return out


def public_key_bits(cert: x509.Certificate) -> int:
    return cert.public_key().key_size


# --- building --------------------------------------------------------------------------------


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_serial() -> int:
    """A positive 16-byte serial like Windows/ADCS ones (top bit clear)."""
    while True:
        n = int.from_bytes(os.urandom(16), "big") >> 1
        if n.bit_length() > 64:
            return n


def utc(y, m, d) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def make_certificate(
    *,
    kind: str,
    subject: str,
    key: rsa.RSAPrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    issuer_cert: Optional[x509.Certificate] = None,
    issuer_key: Optional[rsa.RSAPrivateKey] = None,
    sans: Tuple[str, ...] = (),
    serial: Optional[int] = None,
) -> x509.Certificate:
    """kinds: root, intermediate, leaf (CA-issued TLS), exchange (Exchange self-signed TLS),
    auth (Exchange Auth certificate, self-signed, no SAN)."""
    self_signed = issuer_cert is None
    if self_signed:
        issuer_name = build_name(subject)
        signing_key = key
    else:
        issuer_name = issuer_cert.subject
        signing_key = issuer_key
    pub = key.public_key()
    b = (
        x509.CertificateBuilder()
        .subject_name(build_name(subject))
        .issuer_name(issuer_name)
        .public_key(pub)
        .serial_number(serial if serial is not None else new_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(pub)
    if kind in ("root", "intermediate"):
        b = b.add_extension(
            x509.BasicConstraints(ca=True, path_length=None if kind == "root" else 0), critical=True
        )
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        if kind == "leaf":
            b = b.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
        elif kind == "exchange":
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    b = b.add_extension(ski, critical=False)
    if not self_signed:
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        )
        b = b.add_extension(aki, critical=False)
    return b.sign(signing_key, hashes.SHA256())


def der_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)

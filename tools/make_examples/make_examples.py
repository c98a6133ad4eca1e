#!/usr/bin/env python3
"""Generate examples/ for hybridtls: Exchange Management Shell exports as Windows PowerShell 5.1
writes them, built around real X.509 certificates.

    python3 tools/make_examples/make_examples.py              rebuild every example from the
                                                              checked-in certificates (default)
    python3 tools/make_examples/make_examples.py --check      rebuild in memory and compare with
                                                              the checked-in files; exit 1 on drift
    python3 tools/make_examples/make_examples.py --new-keys   NEW keys and certificates (changes
                                                              every thumbprint), then rebuild

The certificates live in tools/make_examples/certs/*.der; private keys exist only in memory while
--new-keys runs and are never written anywhere. The default mode is byte-for-byte deterministic.
See tools/make_examples/README.md (written by this script).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep __pycache__ out of the repository

from cryptography import x509  # noqa: E402

import x509util as xu  # noqa: E402
from exchange_types import (  # noqa: E402
    RESOURCE_PARTITION_GUID,
    ad_object_id,
    address_space,
    config_nc,
    fqdn,
    ip_binding,
    ip_range,
    receive_connector_dn,
    send_connector_dn,
    server_dn,
    smtp_domain_with_subdomains,
    smtp_receive_domain_capabilities,
    smtp_x509_identifier,
)
from ps51json import Date, Obj, convert_to_json, encode_utf8_bom, encode_utf16le_bom  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CERT_DIR = os.path.join(HERE, "certs")
GUID_NS = uuid.UUID("5f0c3c1e-8f4a-4b7e-9d61-2a7c0e9b4d13")  # fixed: GUIDs derived from DNs

CA_WINDOW = (xu.utc(2025, 1, 1), xu.utc(2045, 1, 1))
LEAF_WINDOW = (xu.utc(2026, 6, 1), xu.utc(2036, 6, 1))
EXCHANGE_WINDOW = (xu.utc(2026, 5, 1), xu.utc(2031, 5, 1))  # Exchange makes 5-year self-signed ones
AUTH_CN = "CN=Microsoft Exchange Server Auth Certificate"


# --- the certificates ------------------------------------------------------------------------


@dataclass
class Spec:
    name: str
    kind: str  # root, intermediate, leaf, exchange, auth
    subject: str
    issuer: Optional[str] = None  # Spec.name of the issuing CA; None = self-signed
    sans: Tuple[str, ...] = ()
    window: Tuple = LEAF_WINDOW
    # this certificate's thumbprint must start with the same N hex chars as another's
    prefix_like: Optional[Tuple[str, int]] = None


SPECS: List[Spec] = [
    # Example Trust Services (seed000 and seed002)
    Spec("example-root-ca", "root", "CN=Example Root CA, O=Example Trust Services, C=US", window=CA_WINDOW),
    Spec(
        "example-issuing-ca-r2",
        "intermediate",
        "CN=Example Issuing CA R2, O=Example Trust Services, C=US",
        issuer="example-root-ca",
        window=CA_WINDOW,
    ),
    # seed000: SERVER1.domain.com
    Spec("seed000-server1-exchange", "exchange", "CN=SERVER1", sans=("SERVER1", "SERVER1.domain.com"), window=EXCHANGE_WINDOW),
    Spec("seed000-server1-auth", "auth", AUTH_CN, window=EXCHANGE_WINDOW),
    Spec(
        "seed000-hybrid-domain-com",
        "leaf",
        "CN=hybrid.domain.com, O=Domain Ltd, C=US",
        issuer="example-issuing-ca-r2",
        sans=("hybrid.domain.com", "mail.domain.com", "autodiscover.domain.com"),
    ),
    # seed003: EXCH01.contoso.com
    Spec(
        "certificate-provider-root-ca",
        "root",
        "CN=Certificate Provider Root CA, O=Certificate Provider, C=US",
        window=CA_WINDOW,
    ),
    Spec(
        "contoso-provider-issuing-ca-g2",
        "intermediate",
        "CN=Contoso Provider Issuing CA G2, O=Certificate Provider, C=US",
        issuer="certificate-provider-root-ca",
        window=CA_WINDOW,
    ),
    Spec("seed003-exch01-exchange", "exchange", "CN=EXCH01", sans=("EXCH01", "EXCH01.contoso.com"), window=EXCHANGE_WINDOW),
    Spec("seed003-exch01-auth", "auth", AUTH_CN, window=EXCHANGE_WINDOW),
    Spec(
        "seed003-mail-contoso-com-renewed",
        "leaf",
        "CN=mail.contoso.com, OU=IT, O=contoso, L=location, S=location, C=US",
        issuer="contoso-provider-issuing-ca-g2",
        sans=("mail.contoso.com", "autodiscover.contoso.com"),
    ),
    # seed002: EDGE01 (edge01.contoso.com), reuses the Example Trust Services CAs
    Spec("seed002-edge01-exchange", "exchange", "CN=EDGE01", sans=("EDGE01", "edge01.contoso.com"), window=EXCHANGE_WINDOW),
    Spec(
        "seed002-mail-contoso-com",
        "leaf",
        "CN=mail.contoso.com, O=Contoso Ltd, C=US",
        issuer="example-issuing-ca-r2",
        sans=("mail.contoso.com",),
    ),
    Spec(
        "seed002-mail-contoso-com-keyless-copy",
        "leaf",
        "CN=mail.contoso.com, O=Contoso Ltd, C=US",
        issuer="example-issuing-ca-r2",
        sans=("mail.contoso.com",),
        window=(xu.utc(2026, 6, 3), xu.utc(2036, 9, 1)),
    ),
    Spec(
        "seed002-legacy-contoso-com",
        "leaf",
        "CN=legacy.contoso.com",
        issuer="example-issuing-ca-r2",
        sans=("legacy.contoso.com",),
        prefix_like=("seed002-mail-contoso-com-keyless-copy", 3),
    ),
    # seed004: exch02.fabrikam.com
    Spec(
        "fabrikam-trust-root-ca",
        "root",
        'CN=Fabrikam Trust Root CA, O="Fabrikam Trust, Inc.", C=US',
        window=CA_WINDOW,
    ),
    Spec(
        "fabrikam-trust-issuing-ca-1",
        "intermediate",
        'CN=Fabrikam Trust Issuing CA 1, O="Fabrikam Trust, Inc.", C=US',
        issuer="fabrikam-trust-root-ca",
        window=CA_WINDOW,
    ),
    Spec("seed004-exch02-exchange", "exchange", "CN=EXCH02", sans=("EXCH02", "exch02.fabrikam.com"), window=EXCHANGE_WINDOW),
    Spec("seed004-exch02-auth", "auth", AUTH_CN, window=EXCHANGE_WINDOW),
    Spec(
        "seed004-mail-fabrikam-com",
        "leaf",
        "CN=mail.fabrikam.com, O=Fabrikam Inc, C=US",
        issuer="fabrikam-trust-issuing-ca-1",
        sans=("mail.fabrikam.com", "autodiscover.fabrikam.com"),
    ),
]
SPEC_BY_NAME = {s.name: s for s in SPECS}


def generate_certificates() -> Dict[str, bytes]:
    """--new-keys: fresh RSA-2048 keys and certificates. Keys stay in this function."""
    keys, certs, ders = {}, {}, {}
    for s in SPECS:
        key = xu.new_key()
        issuer_cert = certs[s.issuer] if s.issuer else None
        issuer_key = keys[s.issuer] if s.issuer else None

        def build(serial=None):
            return xu.make_certificate(
                kind=s.kind,
                subject=s.subject,
                key=key,
                not_before=s.window[0],
                not_after=s.window[1],
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                sans=s.sans,
                serial=serial,
            )

        cert = build()
        if s.prefix_like:
            other, n = s.prefix_like
            want = xu.thumbprint(ders[other])[:n]
            tries = 1
            while xu.thumbprint(xu.der_of(cert))[:n] != want:
                cert = build(xu.new_serial())
                tries += 1
            print("  %s: thumbprint prefix %s after %d signatures" % (s.name, want, tries))
        keys[s.name], certs[s.name], ders[s.name] = key, cert, xu.der_of(cert)
    return ders


def save_certificates(ders: Dict[str, bytes]) -> None:
    os.makedirs(CERT_DIR, exist_ok=True)
    for name in os.listdir(CERT_DIR):
        if name.endswith(".der"):
            os.remove(os.path.join(CERT_DIR, name))
    for name, der in ders.items():
        with open(os.path.join(CERT_DIR, name + ".der"), "wb") as f:
            f.write(der)


@dataclass
class Cert:
    name: str
    der: bytes
    x: x509.Certificate
    thumbprint: str = ""
    subject: str = ""
    issuer: str = ""
    serial: str = ""
    not_before: int = 0
    not_after: int = 0
    domains: List[str] = field(default_factory=list)

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    @property
    def b64(self) -> str:
        return base64.b64encode(self.der).decode("ascii")


def load_certificates() -> Dict[str, Cert]:
    """Read tools/make_examples/certs/*.der and check each against its Spec."""
    out: Dict[str, Cert] = {}
    for s in SPECS:
        path = os.path.join(CERT_DIR, s.name + ".der")
        if not os.path.isfile(path):
            sys.exit("missing %s; run with --new-keys to create the certificates" % path)
        with open(path, "rb") as f:
            der = f.read()
        c = x509.load_der_x509_certificate(der)
        ci = Cert(
            name=s.name,
            der=der,
            x=c,
            thumbprint=xu.thumbprint(der),
            subject=xu.dotnet_dn(c.subject),
            issuer=xu.dotnet_dn(c.issuer),
            serial=xu.dotnet_serial(c),
            not_before=xu.epoch_ms(c.not_valid_before_utc),
            not_after=xu.epoch_ms(c.not_valid_after_utc),
            domains=xu.certificate_domains(c),
        )
        problems = []
        if ci.subject != s.subject:
            problems.append("subject %r" % ci.subject)
        want_issuer = SPEC_BY_NAME[s.issuer].subject if s.issuer else s.subject
        if ci.issuer != want_issuer:
            problems.append("issuer %r" % ci.issuer)
        if tuple(xu.san_dns_names(c)) != s.sans:
            problems.append("SAN %r" % xu.san_dns_names(c))
        if (c.not_valid_before_utc, c.not_valid_after_utc) != s.window:
            problems.append("validity")
        if xu.public_key_bits(c) != 2048:
            problems.append("key size")
        issuer_x = out[s.issuer].x if s.issuer else c
        try:
            c.verify_directly_issued_by(issuer_x)
        except Exception as e:  # noqa: BLE001
            problems.append("signature: %s" % e)
        if s.prefix_like:
            other, n = s.prefix_like
            if ci.thumbprint[:n] != out[other].thumbprint[:n]:
                problems.append("thumbprint prefix differs from %s" % other)
        if problems:
            sys.exit("%s does not match its spec: %s" % (path, "; ".join(problems)))
        out[s.name] = ci
    return out


# --- export rows -----------------------------------------------------------------------------

CERT_FIELDS = [
    "Thumbprint",
    "Subject",
    "Issuer",
    "FriendlyName",
    "NotBefore",
    "NotAfter",
    "HasPrivateKey",
    "IsSelfSigned",
    "Status",
    "Services",
    "RootCAType",
    "CertificateDomains",
    "PublicKeySize",
    "SerialNumber",
    "Identity",
    "RawData",
]
RC_FIELDS = [
    "Identity",
    "Name",
    "Server",
    "TransportRole",
    "Bindings",
    "Fqdn",
    "TlsCertificateName",
    "TlsDomainCapabilities",
    "AuthMechanism",
    "PermissionGroups",
    "RequireTLS",
    "Enabled",
    "ProtocolLoggingLevel",
    "RemoteIPRanges",
]
SC_FIELDS = [
    "Identity",
    "Name",
    "AddressSpaces",
    "SmartHosts",
    "Fqdn",
    "TlsCertificateName",
    "TlsAuthLevel",
    "TlsDomain",
    "RequireTLS",
    "CloudServicesMailEnabled",
    "Enabled",
    "DNSRoutingEnabled",
    "SourceTransportServers",
]
STORE_FIELDS = ["Store", "Thumbprint", "Subject", "Issuer", "FriendlyName", "HasPrivateKey", "NotBefore", "NotAfter", "RawData"]

CERT_PIPELINE = (
    "Get-ExchangeCertificate | Select-Object " + ",".join(CERT_FIELDS) + " | ConvertTo-Json > exchange-certificates.json"
)
RC_PIPELINE_FMT = "Get-ReceiveConnector%s | Select-Object " + ",".join(RC_FIELDS) + " | ConvertTo-Json > receive-connectors.json"
SC_PIPELINE = "Get-SendConnector | Select-Object " + ",".join(SC_FIELDS) + " | ConvertTo-Json > send-connectors.json"

# enums
STATUS_VALID = 1
SVC_IMAP, SVC_POP, SVC_UM, SVC_IIS, SVC_SMTP = 1, 2, 4, 8, 16
ROOT_NONE, ROOT_THIRDPARTY, ROOT_REGISTRY = 0, 1, 3
ROLE_HUB, ROLE_FRONTEND = 32, 16384
TLS_DOMAIN_VALIDATION = 4

ALL_RANGES = ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0.0.0.0-255.255.255.255"]
O365_CAPABILITY = ("mail.protection.outlook.com", "AcceptCloudServicesMail")


def row(props) -> Obj:
    """A Select-Object / [pscustomobject] row. Its ToString is never reached at these depths."""
    return Obj(props, "@{...}")


def guid_for(text: str) -> str:
    return str(uuid.uuid5(GUID_NS, text))


@dataclass
class CertUse:
    cert: Cert
    friendly: str
    services: int
    root_ca_type: int
    has_private_key: bool = True


def exchange_certificate_row(u: CertUse, server_fqdn: str, collector: bool) -> Obj:
    c = u.cert
    values = {
        "Thumbprint": c.thumbprint,
        "Subject": c.subject,
        "Issuer": c.issuer,
        "FriendlyName": u.friendly,
        "NotBefore": Date(c.not_before),
        "NotAfter": Date(c.not_after),
        "HasPrivateKey": u.has_private_key,
        "IsSelfSigned": c.self_signed,
        "Status": STATUS_VALID,
        "Services": u.services,
        "RootCAType": u.root_ca_type,
        "CertificateDomains": [smtp_domain_with_subdomains(d) for d in c.domains],
        "PublicKeySize": xu.public_key_bits(c.x),
        "SerialNumber": c.serial,
        "Identity": server_fqdn + "\\" + c.thumbprint,
        # hand export: byte[] -> array of numbers; collector: [Convert]::ToBase64String
        "RawData": c.b64 if collector else list(c.der),
    }
    return row([(k, values[k]) for k in CERT_FIELDS])


def store_row(store: str, c: Cert, friendly: str, has_key: bool) -> Obj:
    values = {
        "Store": store,
        "Thumbprint": c.thumbprint,
        "Subject": c.subject,
        "Issuer": c.issuer,
        "FriendlyName": friendly,
        "HasPrivateKey": has_key,
        "NotBefore": Date(c.not_before),
        "NotAfter": Date(c.not_after),
        "RawData": c.b64,
    }
    return row([(k, values[k]) for k in STORE_FIELDS])


@dataclass
class Site:
    """Where the server's objects live in the directory."""

    server: str  # NetBIOS name
    server_fqdn: str
    org: str = "First Organization"
    ad_domain: Optional[str] = None  # Active Directory (Mailbox servers)
    adam_guid: Optional[str] = None  # AD LDS instance GUID (Edge Transport servers)

    @property
    def cnc(self) -> str:
        return config_nc(self.ad_domain, self.adam_guid)

    @property
    def partition_guid(self) -> str:
        # Mailbox: ResourcePartitionGuid, as in the CSS-Exchange fixture. Edge (AD LDS): not
        # observed; an empty GUID is assumed.
        return RESOURCE_PARTITION_GUID if self.ad_domain else "00000000-0000-0000-0000-000000000000"

    def server_id(self) -> Obj:
        return ad_object_id(server_dn(self.server, self.org, self.cnc))


def tls_name(issuer: str, subject: str) -> Obj:
    return smtp_x509_identifier(issuer, subject)


def receive_connector_row(
    site: Site,
    name: str,
    role: int,
    port: int,
    auth: int,
    perms: int,
    logging: int,
    tls_certificate_name: Optional[Obj] = None,
    capabilities: Tuple = (),
    connector_fqdn: Optional[str] = None,
) -> Obj:
    dn = receive_connector_dn(name, site.server, site.org, site.cnc)
    values = {
        "Identity": ad_object_id(dn, object_guid=guid_for(dn), partition_guid=site.partition_guid),
        "Name": name,
        "Server": site.server_id(),
        "TransportRole": role,
        "Bindings": [ip_binding("::", port), ip_binding("0.0.0.0", port)],
        "Fqdn": fqdn(connector_fqdn or site.server_fqdn),
        "TlsCertificateName": tls_certificate_name,
        "TlsDomainCapabilities": [smtp_receive_domain_capabilities(d, cap) for d, cap in capabilities],
        "AuthMechanism": auth,
        "PermissionGroups": perms,
        "RequireTLS": False,
        "Enabled": True,
        "ProtocolLoggingLevel": logging,
        "RemoteIPRanges": [ip_range(r) for r in ALL_RANGES],
    }
    return row([(k, values[k]) for k in RC_FIELDS])


def default_mailbox_connectors(site: Site, frontend_tls_name: Optional[Obj], frontend_caps: Tuple) -> List[Obj]:
    """The five receive connectors Setup creates on an Exchange 2016/2019 Mailbox server."""
    s = site.server
    return [
        # AuthMechanism: Tls=1 Integrated=2 BasicAuth=4 BasicAuthRequireTLS=8 ExchangeServer=16
        # PermissionGroups: AnonymousUsers=1 ExchangeUsers=2 ExchangeServers=4 ExchangeLegacyServers=8
        receive_connector_row(site, "Default " + s, ROLE_HUB, 2525, 31, 14, 0),
        receive_connector_row(site, "Client Proxy " + s, ROLE_HUB, 465, 31, 6, 0),
        receive_connector_row(
            site,
            "Default Frontend " + s,
            ROLE_FRONTEND,
            25,
            31,
            13,
            1,
            tls_certificate_name=frontend_tls_name,
            capabilities=frontend_caps,
        ),
        receive_connector_row(site, "Outbound Proxy Frontend " + s, ROLE_FRONTEND, 717, 31, 13, 1),
        receive_connector_row(site, "Client Frontend " + s, ROLE_FRONTEND, 587, 15, 2, 0),
    ]


def send_connector_row(
    site: Site,
    name: str,
    address_spaces: List[str],
    connector_fqdn: Optional[str],
    tls_certificate_name: Optional[Obj],
    tls_auth_level: Optional[int],
    tls_domain: Optional[str],
    require_tls: bool,
    cloud_services: bool,
    source_servers: List[str],
) -> Obj:
    dn = send_connector_dn(name, site.org, site.cnc)
    values = {
        "Identity": ad_object_id(dn, object_guid=guid_for(dn), partition_guid=site.partition_guid),
        "Name": name,
        "AddressSpaces": [address_space(a) for a in address_spaces],
        "SmartHosts": [],
        "Fqdn": fqdn(connector_fqdn) if connector_fqdn else None,
        "TlsCertificateName": tls_certificate_name,
        "TlsAuthLevel": tls_auth_level,
        "TlsDomain": smtp_domain_with_subdomains(tls_domain) if tls_domain else None,
        "RequireTLS": require_tls,
        "CloudServicesMailEnabled": cloud_services,
        "Enabled": True,
        "DNSRoutingEnabled": True,
        "SourceTransportServers": [ad_object_id(server_dn(sv, site.org, site.cnc)) for sv in source_servers],
    }
    return row([(k, values[k]) for k in SC_FIELDS])


def o365_send_connector(site: Site, guid: str, tenant: str, connector_fqdn: str, hybrid: Cert) -> Obj:
    """What the Hybrid Configuration Wizard creates (New-SendConnector ... -TLSAuthLevel
    DomainValidation -TLSDomain mail.protection.outlook.com -CloudServicesMailEnabled:$true)."""
    return send_connector_row(
        site,
        "Outbound to Office 365 - " + guid,
        ["smtp:%s.mail.onmicrosoft.com;1" % tenant],
        connector_fqdn,
        tls_name(hybrid.issuer, hybrid.subject),
        TLS_DOMAIN_VALIDATION,
        "mail.protection.outlook.com",
        True,
        True,
        [site.server],
    )


# --- files -----------------------------------------------------------------------------------


def hand_export(objects: List[Obj]) -> bytes:
    """`... | ConvertTo-Json > file.json` in Windows PowerShell 5.1 (default -Depth 2)."""
    return encode_utf16le_bom(convert_to_json(objects, depth=2))


def collector_export(objects: List[Obj]) -> bytes:
    """`ConvertTo-Json -Depth 6 -InputObject @($objects) | Out-File -Encoding utf8` (5.1)."""
    return encode_utf8_bom(convert_to_json(list(objects), depth=6, input_object_param=True))


def digicert_global_root_g2() -> Cert:
    """DigiCert Global Root G2 (public), the root Exchange Online's certificates chain to
    (MC1224565): in the Root listing of every server that validates Exchange Online's
    certificate and fetched it through automatic root update."""
    with open(os.path.join(HERE, "digicert-global-root-g2.der"), "rb") as f:
        der = f.read()
    c = x509.load_der_x509_certificate(der)
    return Cert(
        name="digicert-global-root-g2",
        der=der,
        x=c,
        thumbprint=xu.thumbprint(der),
        subject=xu.dotnet_dn(c.subject),
        issuer=xu.dotnet_dn(c.issuer),
        serial=xu.dotnet_serial(c),
        not_before=xu.epoch_ms(c.not_valid_before_utc),
        not_after=xu.epoch_ms(c.not_valid_after_utc),
        domains=xu.certificate_domains(c),
    )


def transport_service_json(name: str, internal: Cert) -> bytes:
    """`transport-services.json` as `hybridtls collect` writes it: the server's internal
    transport certificate, the self-signed certificate Exchange setup made."""
    return collector_export([row([("Name", name), ("InternalTransportCertificateThumbprint", internal.thumbprint)])])


def server_json(name: str, server_fqdn: str, role: str, version: str) -> bytes:
    return collector_export(
        [
            row(
                [
                    ("HybridTlsCollector", 1),
                    ("Name", name),
                    ("Fqdn", server_fqdn),
                    ("ServerRole", role),
                    ("AdminDisplayVersion", version),
                ]
            )
        ]
    )


def cert_table(entries: List[Tuple[str, Cert, str]]) -> str:
    lines = ["| Certificate | Thumbprint | Where it appears |", "|---|---|---|"]
    for label, c, where in entries:
        lines.append("| %s | `%s` | %s |" % (label, c.thumbprint, where))
    return "\n".join(lines)


def md(text: str) -> bytes:
    return (text.strip("\n") + "\n").encode("utf-8")


# --- scenarios -------------------------------------------------------------------------------


def seed000(C: Dict[str, Cert]) -> Dict[str, bytes]:
    d = "examples/seed000-null-tlscertname/"
    site = Site("SERVER1", "SERVER1.domain.com", ad_domain="domain.com")
    selfsigned, auth, hybrid = C["seed000-server1-exchange"], C["seed000-server1-auth"], C["seed000-hybrid-domain-com"]
    uses = [
        CertUse(selfsigned, "Microsoft Exchange", SVC_IMAP | SVC_POP | SVC_IIS | SVC_SMTP, ROOT_REGISTRY),
        CertUse(auth, "Microsoft Exchange Server Auth Certificate", SVC_SMTP, ROOT_NONE),
        CertUse(hybrid, "hybrid.domain.com 2026", SVC_IIS | SVC_SMTP, ROOT_THIRDPARTY),
    ]
    guid = "6f9c2a4e-8b1d-4d3a-9e7f-2c5b1a0d3e84"
    files = {
        d + "exchange-certificates.json": hand_export([exchange_certificate_row(u, site.server_fqdn, False) for u in uses]),
        d
        + "receive-connectors.json": hand_export(
            default_mailbox_connectors(site, None, (O365_CAPABILITY,))
        ),
        d + "send-connectors.json": hand_export([o365_send_connector(site, guid, "domain", "hybrid.domain.com", hybrid)]),
    }
    tcn = "<I>%s<S>%s" % (hybrid.issuer, hybrid.subject)
    files[d + "README.md"] = md(
        f"""
# seed000: the hybrid receive connector has no TlsCertificateName

Source: seed 000, Microsoft support blog "Mail not routing to on-premise Exchange 2013
environment from O365 with 450 4.7.320 Certificate validation failed error" (the same happens on
Exchange 2016, which this example models).

## Scenario

Exchange 2016 Mailbox server `SERVER1` (`SERVER1.domain.com`), hybrid with Exchange Online.
Three certificates are installed: the Exchange self-signed `CN=SERVER1`, the Exchange Server Auth
certificate, and a third-party SAN certificate `{hybrid.subject}` (SAN `hybrid.domain.com`,
`mail.domain.com`, `autodiscover.domain.com`) issued by `{hybrid.issuer}`, with IIS and SMTP
enabled. The `Outbound to Office 365 - {guid}` send connector names that certificate and has
`Fqdn hybrid.domain.com`. On the receive side, `SERVER1\\Default Frontend SERVER1` has
`TlsDomainCapabilities mail.protection.outlook.com:AcceptCloudServicesMail` but
**`TlsCertificateName` is null**.

## Symptom

Mail from Exchange Online to on-premises queues in Exchange Online with
`450 4.7.320 Certificate validation failed` / `MSG=SubjectMismatch` / `FQDN=hybrid.domain.com`.
The FrontEnd SmtpReceive protocol log shows `Sending certificate` with subject and issuer
`CN=SERVER1` and alternate names `SERVER1;SERVER1.domain.com`.

## What hybridtls should find and fix

- With `TlsCertificateName` null, Exchange searches by the connector `Fqdn`
  (`SERVER1.domain.com`): the only certificate holding that name is the self-signed `CN=SERVER1`,
  which does not cover the hybrid FQDN `hybrid.domain.com` (derived from the send connector's
  `Fqdn`).
- Fix: `Set-ReceiveConnector 'SERVER1\\Default Frontend SERVER1' -TlsCertificateName
  '{tcn}'`, then restart `MSExchangeFrontEndTransport`.
- The send connector already names the right certificate: no change there. The self-signed and
  Auth certificates must not be touched.

## Files and how they were exported

Windows PowerShell 5.1, Exchange Management Shell on SERVER1; `>` writes UTF-16LE with BOM and
CRLF; default `-Depth 2`.

- `exchange-certificates.json`: `{CERT_PIPELINE}` (3 certificates, so the root is an array and
  `CertificateDomains` are strings; `RawData` is an array of byte values).
- `receive-connectors.json`: `{RC_PIPELINE_FMT % " -Server SERVER1"}`
- `send-connectors.json`: `{SC_PIPELINE}` (one connector, so the root is a bare object and its
  nested values are one level less cut off: `Identity`, `TlsCertificateName.SubjectCommonName`,
  `TlsDomain` and `AddressSpaces` items are objects).

{cert_table([
    ("`CN=SERVER1` (Exchange self-signed, Services 27)", selfsigned, "exchange-certificates.json"),
    ("`CN=Microsoft Exchange Server Auth Certificate` (Services 16)", auth, "exchange-certificates.json"),
    ("`CN=hybrid.domain.com` (third-party, Services 24): the fix target", hybrid, "exchange-certificates.json; named by the send connector"),
    ("`CN=Example Issuing CA R2` (intermediate)", C["example-issuing-ca-r2"], "issuer only; not exported"),
    ("`CN=Example Root CA` (root)", C["example-root-ca"], "not exported"),
])}

Generated by `tools/make_examples/make_examples.py`; do not edit by hand.
"""
    )
    return files


def seed003(C: Dict[str, Cert]) -> Dict[str, bytes]:
    d = "examples/seed003-removed-certificate/"
    site = Site("EXCH01", "EXCH01.contoso.com", ad_domain="contoso.com")
    selfsigned, auth, renewed = C["seed003-exch01-exchange"], C["seed003-exch01-auth"], C["seed003-mail-contoso-com-renewed"]
    old_issuer = "CN=Certificate Name, OU=Issuing, O=Certificate Provider, C=US"
    uses = [
        CertUse(auth, "Microsoft Exchange Server Auth Certificate", SVC_SMTP, ROOT_NONE),
        CertUse(selfsigned, "Microsoft Exchange", SVC_IMAP | SVC_POP | SVC_IIS | SVC_SMTP, ROOT_REGISTRY),
        CertUse(renewed, "mail.contoso.com 2026", SVC_IIS | SVC_SMTP, ROOT_THIRDPARTY),
    ]
    stale = tls_name(old_issuer, renewed.subject)
    files = {
        d + "exchange-certificates.json": hand_export([exchange_certificate_row(u, site.server_fqdn, False) for u in uses]),
        d + "receive-connectors.json": hand_export(default_mailbox_connectors(site, stale, (O365_CAPABILITY,))),
    }
    new_tcn = "<I>%s<S>%s" % (renewed.issuer, renewed.subject)
    files[d + "README.md"] = md(
        f"""
# seed003: TlsCertificateName still names the removed certificate

Source: seed 003, KB 2989382 "Can't receive mail in a hybrid environment after you install a new
certificate".

## Scenario

Exchange 2016 Mailbox server `EXCH01` (`EXCH01.contoso.com`). The hybrid certificate was renewed:
the new `{renewed.subject}` (SAN `mail.contoso.com`, `autodiscover.contoso.com`) comes from a new
intermediate, `{renewed.issuer}` (under `{C["certificate-provider-root-ca"].subject}`), and has
IIS and SMTP enabled. The old certificate (same subject, issued by `{old_issuer}`) was removed
and appears in no export. The Hybrid Configuration Wizard was not run again, so
`EXCH01\\Default Frontend EXCH01` still has

    TlsCertificateName    <I>{old_issuer}<S>{renewed.subject}
    TlsDomainCapabilities mail.protection.outlook.com:AcceptCloudServicesMail

## Symptom

Event 12014 (MSExchangeFrontEndTransport): "Microsoft Exchange could not find a certificate that
contains the domain name <I>{old_issuer}<S>{renewed.subject} in the personal store on the local
computer". `telnet localhost 25` shows no `STARTTLS`; Exchange Online reports
`451 5.7.3 STARTTLS is required to send mail` (`450 4.4.101 Proxy session setup failed on
Frontend ...` during HCW validation).

## What hybridtls should find and fix

- No installed certificate has issuer `{old_issuer}` and that subject, so the connector selects
  nothing and STARTTLS is not offered. The renewed certificate has the same subject and a
  different issuer; it covers the hybrid FQDN `mail.contoso.com` (the CN of the current
  `TlsCertificateName`).
- Fix: `Set-ReceiveConnector 'EXCH01\\Default Frontend EXCH01' -TlsCertificateName
  '{new_tcn}'` (the KB's alternative is to clear it and rerun the HCW), then restart
  `MSExchangeFrontEndTransport`. `TlsDomainCapabilities` stays as it is.
- There is no send-connector export in this example.

## Files and how they were exported

Windows PowerShell 5.1, Exchange Management Shell on EXCH01; `>` writes UTF-16LE with BOM and
CRLF; default `-Depth 2`.

- `exchange-certificates.json`: `{CERT_PIPELINE}`
- `receive-connectors.json`: `{RC_PIPELINE_FMT % " -Server EXCH01"}`

{cert_table([
    ("`CN=Microsoft Exchange Server Auth Certificate` (Services 16)", auth, "exchange-certificates.json"),
    ("`CN=EXCH01` (Exchange self-signed, Services 27)", selfsigned, "exchange-certificates.json"),
    ("`CN=mail.contoso.com, OU=IT, ...` renewed (Services 24): the fix target", renewed, "exchange-certificates.json"),
    ("`CN=Contoso Provider Issuing CA G2` (new intermediate)", C["contoso-provider-issuing-ca-g2"], "issuer only; not exported"),
    ("`CN=Certificate Provider Root CA` (root)", C["certificate-provider-root-ca"], "not exported"),
])}

The old certificate never existed as a file here: it is only the issuer string in
`TlsCertificateName`.

Generated by `tools/make_examples/make_examples.py`; do not edit by hand.
"""
    )
    return files


def seed002(C: Dict[str, Cert]) -> Dict[str, bytes]:
    d = "examples/seed002-keyless-duplicate-edge/"
    f = d + "hybridtls-EDGE01/"
    site = Site("EDGE01", "edge01.contoso.com", adam_guid="7d9c4a2e-3f1b-4e8a-9c6d-2b5f8a1e0c47")
    edge_ss = C["seed002-edge01-exchange"]
    hybrid = C["seed002-mail-contoso-com"]
    keyless = C["seed002-mail-contoso-com-keyless-copy"]
    legacy = C["seed002-legacy-contoso-com"]
    inter, root = C["example-issuing-ca-r2"], C["example-root-ca"]
    uses = [
        CertUse(edge_ss, "Microsoft Exchange", SVC_SMTP, ROOT_REGISTRY),
        CertUse(legacy, "legacy.contoso.com", 0, ROOT_THIRDPARTY),
        CertUse(hybrid, "mail.contoso.com 2026", SVC_SMTP, ROOT_THIRDPARTY),
    ]
    tcn = tls_name(hybrid.issuer, hybrid.subject)
    rc = [
        receive_connector_row(
            site,
            "Default internal receive connector EDGE01",
            ROLE_HUB,
            25,
            1 | 16,  # Tls, ExchangeServer
            1 | 4 | 16,  # AnonymousUsers, ExchangeServers, Partners
            1,
            tls_certificate_name=tcn,
            capabilities=(O365_CAPABILITY,),
            connector_fqdn="mail.contoso.com",
        )
    ]
    o365_guid = "3b1f7c52-9a6e-4d2b-8f0c-5e7a9d1b2c64"
    sc = [
        send_connector_row(
            site,
            "EdgeSync - Default-First-Site-Name to Internet",
            ["smtp:*;100"],
            None,
            None,
            None,
            None,
            False,
            False,
            ["EDGE01"],
        ),
        o365_send_connector(site, o365_guid, "contoso", "mail.contoso.com", hybrid),
    ]
    my = [
        store_row("My", edge_ss, "Microsoft Exchange", True),
        store_row("My", legacy, "legacy.contoso.com", True),
        store_row("My", keyless, "", False),
        store_row("My", hybrid, "mail.contoso.com 2026", True),
    ]
    files = {
        f + "server.json": server_json("EDGE01", "edge01.contoso.com", "Edge", "Version 15.2 (Build 1544.4)"),
        f + "exchange-certificates.json": collector_export([exchange_certificate_row(u, site.server_fqdn, True) for u in uses]),
        f + "receive-connectors.json": collector_export(rc),
        f + "send-connectors.json": collector_export(sc),
        f + "store-My.json": collector_export(my),
        f + "store-CA.json": collector_export([store_row("CA", inter, "", False)]),
        f + "store-Root.json": collector_export([store_row("Root", root, "", False), store_row("Root", digicert_global_root_g2(), "DigiCert Global Root G2", False)]),
        f + "transport-services.json": transport_service_json("EDGE01", edge_ss),
    }
    n = 3
    prefix = keyless.thumbprint[:n]
    files[d + "README.md"] = md(
        f"""
# seed002: a key-less duplicate of the hybrid certificate on an Edge Transport server

Source: seed 002, "Exchange Hybrid TLS negotiation failed with error NoCredentials" (Jaap
Wesselius, 2019).

## Scenario

Exchange 2019 Edge Transport server `EDGE01` (`edge01.contoso.com`) carries hybrid mail flow. The
HCW configured `Default internal receive connector EDGE01` (`Fqdn mail.contoso.com`,
`TlsDomainCapabilities mail.protection.outlook.com:AcceptCloudServicesMail`) and the EdgeSync'd
`Outbound to Office 365 - {o365_guid}` send connector, both with

    TlsCertificateName <I>{hybrid.issuer}<S>{hybrid.subject}

`Cert:\\LocalMachine\\My` holds **two** certificates with exactly that issuer and subject:

- the real one, with its private key (NotAfter 2036-06-01), enabled for SMTP, and
- a copy left over from an earlier request that never completed: different key and serial,
  **no private key**, and a later NotAfter (2036-09-01). `Get-ExchangeCertificate` does not list
  it (it only lists certificates with a private key); only the `My` store listing shows it.

There is also an unrelated `CN=legacy.contoso.com` certificate whose thumbprint starts with the
same `{prefix}` as the key-less copy.

## Symptom

Inbound from Exchange Online works. Outbound to Exchange Online queues on the Edge with
`451 4.4.395 Target host responded with error. -> 421 4.4.1 Connection timed out`; the SmtpSend
protocol log shows `TLS negotiation failed with error NoCredentials`, and the certificate
thumbprint it logs is not the one `Get-ExchangeCertificate` shows.

## What hybridtls should find and fix

- Two valid certificates match the connectors' `TlsCertificateName`. The receive connector is
  not affected: on Exchange 2016 and later only certificates with a private key are eligible for
  inbound STARTTLS, so it presents the real one and inbound mail works. The send connector's lookup
  does not skip a key-less copy: whichever rule it uses (first in store order, as in Exchange 2013
  code, or the latest NotAfter, as the 2025 Microsoft guidance says), it picks the key-less copy
  `{keyless.thumbprint}`, which cannot do TLS (`NoCredentials` in SmtpSend).
- Fix: remove exactly that certificate from `Cert:\\LocalMachine\\My`, by its full thumbprint,
  then restart `MSExchangeTransport`. Do **not** remove by prefix: the blog's
  `Get-ChildItem | ?{{$_.Thumbprint -like "B79*"}} | Remove-Item` pattern would also delete
  `CN=legacy.contoso.com` here (`{legacy.thumbprint}`). No connector needs a change; do not
  replace the Edge's default SMTP certificate (that breaks EdgeSync).

## Files and how they were exported

`hybridtls-EDGE01/` is the output of the hybridtls collector, run in the Exchange Management
Shell on EDGE01 (Windows PowerShell 5.1). Every file is
`ConvertTo-Json -Depth 6 -InputObject @($objects) | Out-File -Encoding utf8`: UTF-8 with BOM, CRLF,
the root always an array, nothing cut off by depth (the directory identities are AD LDS ones,
`...,CN=Configuration,CN={{{site.adam_guid.upper()}}}`).

- `server.json`: name, FQDN, role (`Edge`) and version of the server.
- `exchange-certificates.json`: `Get-ExchangeCertificate` with the properties of the hand export,
  `RawData` as base64 (3 certificates: the key-less copy is not there).
- `receive-connectors.json`, `send-connectors.json`: `Get-ReceiveConnector`, `Get-SendConnector`.
- `store-My.json`, `store-CA.json`, `store-Root.json`: `Get-ChildItem Cert:\\LocalMachine\\<store>`
  with `HasPrivateKey` and base64 `RawData`; the Root listing also holds DigiCert Global Root G2,
  Exchange Online's root, which automatic root update fetched.
- `transport-services.json`: `Get-TransportService` of the server: its internal transport
  certificate, `CN=EDGE01`.

{cert_table([
    ("`CN=EDGE01` (Exchange self-signed, Services 16; internal transport certificate)", edge_ss, "exchange-certificates, store-My"),
    ("`CN=legacy.contoso.com` (unrelated, Services 0)", legacy, "exchange-certificates, store-My"),
    ("`CN=mail.contoso.com, O=Contoso Ltd` with key (Services 16): keep", hybrid, "exchange-certificates, store-My"),
    ("`CN=mail.contoso.com, O=Contoso Ltd` key-less copy: remove", keyless, "store-My only"),
    ("`CN=Example Issuing CA R2` (intermediate)", inter, "store-CA"),
    ("`CN=Example Root CA` (root)", root, "store-Root"),
])}

Generated by `tools/make_examples/make_examples.py`; do not edit by hand.
"""
    )
    return files


def seed004(C: Dict[str, Cert]) -> Dict[str, bytes]:
    d = "examples/seed004-missing-intermediate/"
    f = d + "hybridtls-EXCH02/"
    site = Site("EXCH02", "exch02.fabrikam.com", ad_domain="fabrikam.com")
    selfsigned, auth, hybrid = C["seed004-exch02-exchange"], C["seed004-exch02-auth"], C["seed004-mail-fabrikam-com"]
    inter, root = C["fabrikam-trust-issuing-ca-1"], C["fabrikam-trust-root-ca"]
    unrelated = C["example-issuing-ca-r2"]
    uses = [
        CertUse(auth, "Microsoft Exchange Server Auth Certificate", SVC_SMTP, ROOT_NONE),
        CertUse(selfsigned, "Microsoft Exchange", SVC_IMAP | SVC_POP | SVC_IIS | SVC_SMTP, ROOT_REGISTRY),
        CertUse(hybrid, "mail.fabrikam.com 2026", SVC_IIS | SVC_SMTP, ROOT_THIRDPARTY),
    ]
    tcn = tls_name(hybrid.issuer, hybrid.subject)
    o365_guid = "a4e2c9d7-1b3f-4c8e-9d2a-6f5b7e0c1d38"
    my = [
        store_row("My", auth, "Microsoft Exchange Server Auth Certificate", True),
        store_row("My", selfsigned, "Microsoft Exchange", True),
        store_row("My", hybrid, "mail.fabrikam.com 2026", True),
    ]
    files = {
        f + "server.json": server_json("EXCH02", "exch02.fabrikam.com", "Mailbox", "Version 15.1 (Build 2507.6)"),
        f + "exchange-certificates.json": collector_export([exchange_certificate_row(u, site.server_fqdn, True) for u in uses]),
        f + "receive-connectors.json": collector_export(default_mailbox_connectors(site, tcn, (O365_CAPABILITY,))),
        f + "send-connectors.json": collector_export([o365_send_connector(site, o365_guid, "fabrikam", "mail.fabrikam.com", hybrid)]),
        f + "store-My.json": collector_export(my),
        # an unrelated intermediate is present; the Fabrikam one is not
        f + "store-CA.json": collector_export([store_row("CA", unrelated, "", False)]),
        f + "store-Root.json": collector_export([store_row("Root", root, "", False), store_row("Root", digicert_global_root_g2(), "DigiCert Global Root G2", False)]),
        f + "transport-services.json": transport_service_json("EXCH02", selfsigned),
        d + "intermediate.pem": xu.pem_of(inter.x),
    }
    files[d + "README.md"] = md(
        f"""
# seed004: the intermediate certificate is missing from the server

Source: seed 004, KB 3212877 "550 5.7.64 TenantAttribution; Relay Access Denied" (the on-premises
server does not send the intermediate certificate during the TLS handshake).

## Scenario

Exchange 2016 Mailbox server `EXCH02` (`exch02.fabrikam.com`). The hybrid certificate
`{hybrid.subject}` (SAN `mail.fabrikam.com`, `autodiscover.fabrikam.com`) is issued by the
intermediate `{hybrid.issuer}` (note the quoted `O`: the value contains a comma), which is issued
by the root `{root.subject}`. `Default Frontend EXCH02` and the `Outbound to Office 365 -
{o365_guid}` send connector correctly name it:

    TlsCertificateName <I>{hybrid.issuer}<S>{hybrid.subject}

The root is in `Cert:\\LocalMachine\\Root`, but the intermediate is in neither
`Cert:\\LocalMachine\\CA` nor `My` (the CA store holds only an unrelated intermediate,
`{unrelated.subject}`). The administrator downloaded the intermediate from the CA:
`intermediate.pem`.

## Symptom

Mail relayed through Exchange Online is rejected with `550 5.7.64 TenantAttribution; Relay Access
Denied`; with CAPI2 logging on, event 30 shows `800B0109` ("A certificate chain processed, but
terminated in a root certificate which is not trusted by the trust provider"): the server sends
its certificate without the intermediate, so Exchange Online cannot build the chain.

## What hybridtls should find and fix

- Connector configuration is correct; the chain of `{hybrid.thumbprint}` cannot be built from the
  server's stores because `{inter.subject}` is missing.
- Given `intermediate.pem` as an input, it recognises it as the missing issuer (name and
  signature) and plans `Import-Certificate -FilePath <file> -CertStoreLocation
  Cert:\\LocalMachine\\CA`, then a restart of the transport services. Without the PEM it can only
  report the gap.

## Files and how they were exported

`hybridtls-EXCH02/` is the output of the hybridtls collector, run in the Exchange Management
Shell on EXCH02 (Windows PowerShell 5.1): every file is
`ConvertTo-Json -Depth 6 -InputObject @($objects) | Out-File -Encoding utf8` (UTF-8 with BOM,
CRLF, root always an array, nothing cut off by depth). `intermediate.pem` is the intermediate as
the CA publishes it (PEM, LF line ends).

{cert_table([
    ("`CN=Microsoft Exchange Server Auth Certificate` (Services 16)", auth, "exchange-certificates, store-My"),
    ("`CN=EXCH02` (Exchange self-signed, Services 27)", selfsigned, "exchange-certificates, store-My"),
    ("`CN=mail.fabrikam.com` (Services 24)", hybrid, "exchange-certificates, store-My"),
    ("`CN=Fabrikam Trust Issuing CA 1` (intermediate): missing, import", inter, "intermediate.pem only"),
    ("`CN=Fabrikam Trust Root CA` (root)", root, "store-Root"),
    ("`CN=Example Issuing CA R2` (unrelated intermediate)", unrelated, "store-CA"),
])}

Generated by `tools/make_examples/make_examples.py`; do not edit by hand.
"""
    )
    return files


def tool_readme(C: Dict[str, Cert]) -> bytes:
    rows = "\n".join("| `%s.der` | %s | `%s` |" % (s.name, s.subject.replace("|", "\\|"), C[s.name].thumbprint) for s in SPECS)
    return md(
        f"""
# tools/make_examples

Generates `examples/`: Exchange Management Shell exports exactly as Windows PowerShell 5.1 writes
them, built around real X.509 certificates. Written by `make_examples.py`; do not edit by hand.

## Files

- `ps51json.py`: Windows PowerShell 5.1 `ConvertTo-Json`: the depth walk of
  `ConvertToJsonCommand.ProcessValue`, JavaScriptSerializer output (escaping `'` `<` `>` `&` as
  `\\u0027` `\\u003c` `\\u003e` `\\u0026`, `"\\/Date(ms)\\/"` dates) and a port of the 5.1
  re-indenter `ConvertToPrettyJsonString`; plus `write_utf16le_bom` (`> file`) and
  `write_utf8_bom` (`Out-File -Encoding utf8`), which end the text with the CRLF Out-File adds.
- `exchange_types.py`: the .NET and Exchange objects that appear in the exports (ADObjectId,
  AdName, SmtpX509Identifier, SmtpDomainWithSubdomains, IPBinding, IPRange, AddressSpace, ...)
  with their properties in reflection order and their `ToString()`.
- `x509util.py`: certificate building and the .NET views of a certificate (DN format with `S=`
  and quoting, thumbprint, serial number, dates, `CertificateDomains`).
- `make_examples.py`: the certificate specs and the four scenarios.
- `test_ps51json.py`: rebuilds the reference samples R1, R2 and R3 from value models and checks
  them byte for byte (`python3 tools/make_examples/test_ps51json.py`).
- `certs/*.der`: every certificate the examples use, as generated. No private key is stored
  anywhere; keys only exist in memory while `--new-keys` runs.

## Running

    python3 tools/make_examples/make_examples.py            # rebuild examples/ from certs/*.der
    python3 tools/make_examples/make_examples.py --check    # compare instead of writing; exit 1 on drift
    python3 tools/make_examples/make_examples.py --new-keys # new keys and certificates, then rebuild

Needs Python 3.9+ and `cryptography` (tested with 48). The default mode is deterministic: run it
twice and nothing changes. Run it (or `--check`) after changing the emitter, the type models or
a scenario.

## When to regenerate the certificates

Only on purpose: `--new-keys` creates new keys and serial numbers, so **every thumbprint changes**
and every golden test or snapshot that mentions one must be regenerated and reviewed in the same
change. Reasons to do it: a certificate property must change (subject, SAN, validity, a new
scenario needs a new certificate: add a `Spec` and run `--new-keys`), or the validity windows run
out. The windows are fixed so the examples keep working for years: leaves 2026-06-01 to
2036-06-01, CAs 2025-01-01 to 2045-01-01, Exchange self-signed certificates 2026-05-01 to
2031-05-01 (tests should pass `--now` inside those windows). The key-less duplicate in seed002
runs 2026-06-03 to 2036-09-01, and `CN=legacy.contoso.com` is re-signed with new serial numbers
until its SHA-1 thumbprint starts with the same 3 hex characters as that duplicate's (about 4096
signatures).

## Modelling notes

- `ConvertTo-Json` returns the text without a final newline (as in the reference samples R1-R3);
  `>` and `Out-File` add one CRLF when they write it, so every generated JSON file ends in CRLF.
- Hand exports (`seed000`, `seed003`) are `... | Select-Object ... | ConvertTo-Json > file` at the
  default `-Depth 2`; collector exports (`seed002`, `seed004`) are
  `ConvertTo-Json -Depth 6 -InputObject @($objects) | Out-File -Encoding utf8` of the same
  objects, so nested values (ADObjectId chains, IP bindings and ranges, `SubjectCommonName`,
  `TlsDomainCapabilities` items) are objects down to depth 6 and strings below it.
- Property lists and order follow the decompiled Exchange 2013 types and .NET Framework 4.x
  (declaration order, which reflection returns); getters that throw are `null`
  (`IPAddress.Address` for IPv6, `IPAddress.ScopeId` for IPv4, `IPRange.Netmask`/`CIDRLength`
  for a Lo-Hi range). `IPBinding` uses the order of the CSS-Exchange CLIXML fixture.
- Not observed, assumed: on the Edge (AD LDS) the identities end in `CN=Configuration,CN={{guid}}`,
  their `PartitionGuid` is empty and `DomainId`/`PartitionFQDN` show `CN={{guid}}` (DsCrackNames
  cannot make a canonical name of it); the `ToString()` of `DC=com` is `com`.
- Default receive connector values (AuthMechanism, PermissionGroups, ProtocolLoggingLevel) are
  the usual Exchange 2016/2019 defaults; only `Default Frontend` (31, 13) is from a real fixture.

## Certificates

| File | Subject (.NET form) | Thumbprint |
|---|---|---|
{rows}
"""
    )


def build_all() -> Dict[str, bytes]:
    C = load_certificates()
    files: Dict[str, bytes] = {}
    for fn in (seed000, seed002, seed003, seed004):
        files.update(fn(C))
    files["tools/make_examples/README.md"] = tool_readme(C)
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--reuse", action="store_true", help="rebuild from the checked-in certificates (the default)")
    g.add_argument("--new-keys", action="store_true", help="generate new keys and certificates (changes every thumbprint)")
    g.add_argument("--check", action="store_true", help="compare with the checked-in files instead of writing")
    args = ap.parse_args(argv)

    if args.new_keys:
        print("generating new keys and certificates in %s" % os.path.relpath(CERT_DIR, REPO))
        save_certificates(generate_certificates())

    files = build_all()
    if args.check:
        drift = []
        for rel, data in sorted(files.items()):
            path = os.path.join(REPO, rel)
            if not os.path.isfile(path) or open(path, "rb").read() != data:
                drift.append(rel)
        for rel in drift:
            print("differs: " + rel)
        print("%d files checked, %d differ" % (len(files), len(drift)))
        return 1 if drift else 0

    for rel, data in sorted(files.items()):
        path = os.path.join(REPO, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        old = open(path, "rb").read() if os.path.isfile(path) else None
        if old != data:
            with open(path, "wb") as fh:
                fh.write(data)
            print("wrote " + rel)
    return 0


if __name__ == "__main__":
    sys.exit(main())

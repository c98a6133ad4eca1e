"""Value models (ps51json.Obj) of the .NET and Exchange types that appear in the exports.

Property lists and ToString() follow the decompiled Exchange 2013 types (Microsoft.Exchange.Data,
Microsoft.Exchange.Data.Directory) and the .NET Framework 4.x types, in declaration order, which
is the order reflection (and so ConvertTo-Json) returns them. A property whose getter throws is
written as null by ConvertTo-Json; those are modelled as None here (IPAddress.Address of an IPv6
address, IPAddress.ScopeId of an IPv4 address, IPRange.Netmask/CIDRLength of a Lo-Hi range).

Where the real value could not be derived with certainty the function says so in its docstring.
"""

from __future__ import annotations

import ipaddress
import re

from ps51json import Obj

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
# ADObjectId.ResourcePartitionGuid; the PartitionGuid of connector identities in the
# CSS-Exchange GetReceiveConnector.xml fixture.
RESOURCE_PARTITION_GUID = "59ce2f71-eaa2-4ddf-a4fa-f25069d0b324"

# AddressFamily enum values (System.Net.Sockets)
AF_INET = 2
AF_INET6 = 23


# --- SmtpDomain, Fqdn, SmtpDomainWithSubdomains -----------------------------------------------


def smtp_domain(domain: str) -> Obj:
    """Microsoft.Exchange.Data.SmtpDomain: one property, Domain; ToString() is the domain."""
    return Obj([("Domain", domain)], domain)


def fqdn(domain: str) -> Obj:
    """Microsoft.Exchange.Data.Fqdn (: SmtpDomain), e.g. a connector's Fqdn."""
    return Obj([("Domain", domain)], domain)


def smtp_domain_with_subdomains(text: str) -> Obj:
    """Microsoft.Exchange.Data.SmtpDomainWithSubdomains parsed from "*", "*.dom" or "dom"."""
    if text == "*":
        return Obj(
            [
                ("Address", "*"),
                ("IncludeSubDomains", True),
                ("Domain", "*"),
                ("SmtpDomain", None),
                ("IsStar", True),
            ],
            "*",
        )
    include = text.startswith("*.")
    dom = text[2:] if include else text
    address = ("*." + dom) if include else dom
    return Obj(
        [
            ("Address", address),
            ("IncludeSubDomains", include),
            ("Domain", dom),
            ("SmtpDomain", smtp_domain(dom)),
            ("IsStar", False),
        ],
        address,
    )


# --- TlsCertificateName ----------------------------------------------------------------------

_CN_RE = re.compile(r"CN=(.*?)($|,)", re.IGNORECASE)


def smtp_x509_identifier(issuer: str, subject: str) -> Obj:
    """Microsoft.Exchange.Data.SmtpX509Identifier (a connector's TlsCertificateName).

    ToString() is "<I>issuer<S>subject" ("<S>subject" without an issuer); SubjectCommonName is
    the SmtpDomainWithSubdomains of the subject's CN (regex CN=(.*?)($|,)).
    """
    m = _CN_RE.search(subject)
    if not m:
        raise ValueError("subject has no CN: %r" % subject)
    text = ("<I>" + issuer if issuer else "") + "<S>" + subject
    return Obj(
        [
            ("CertificateSubject", subject),
            ("CertificateIssuer", issuer),
            ("SubjectCommonName", smtp_domain_with_subdomains(m.group(1))),
        ],
        text,
    )


# --- TlsDomainCapabilities -------------------------------------------------------------------

SMTP_RECEIVE_CAPABILITIES = {
    "None": 0,
    "AcceptOorgHeader": 1,
    "AcceptOorgProtocol": 2,
    "AcceptProxyProtocol": 4,
    "AcceptProxyFromProtocol": 8,
    "AcceptProxyToProtocol": 16,
    "AcceptXAttrProtocol": 32,
    "AcceptOrgHeaders": 64,
    "AcceptXSysProbeProtocol": 128,
    "AcceptCrossForestMail": 256,
    "AcceptCloudServicesMail": 512,
    "AllowSubmit": 1024,
    "AcceptXOriginalFromProtocol": 2048,
    "AllowConsumerMail": 4096,
}


def smtp_receive_domain_capabilities(domain: str, capability: str) -> Obj:
    """Microsoft.Exchange.Data.SmtpReceiveDomainCapabilities, e.g.
    mail.protection.outlook.com:AcceptCloudServicesMail (Capabilities is an enum -> number)."""
    return Obj(
        [
            ("Domain", smtp_domain_with_subdomains(domain)),
            ("Capabilities", SMTP_RECEIVE_CAPABILITIES[capability]),
            ("SmtpX509Identifier", None),
        ],
        "%s:%s" % (domain, capability),
    )


# --- AddressSpace ----------------------------------------------------------------------------


def address_space(text: str) -> Obj:
    """Microsoft.Exchange.Data.AddressSpace from "type:address;cost" (SMTP types only)."""
    m = re.fullmatch(r"([^:]+):([^;]+);(\d+)", text)
    if not m:
        raise ValueError("address space %r" % text)
    typ, addr, cost = m.group(1), m.group(2), int(m.group(3))
    if typ.lower() != "smtp":
        raise ValueError("only smtp address spaces are modelled")
    sd = smtp_domain_with_subdomains(addr)
    props = [
        ("Address", sd.tostring),
        ("Type", typ),
        ("Cost", cost),
        ("IncludeSubDomains", dict(sd.props)["IncludeSubDomains"]),
        ("Domain", dict(sd.props)["Domain"]),
        ("IsSmtpType", True),
        ("IsX400Type", False),
        ("X400Address", None),
    ]
    return Obj(props, "%s:%s;%d" % (typ, sd.tostring, cost))


# --- IP addresses, bindings, ranges ----------------------------------------------------------


def ip_address(text: str) -> Obj:
    """System.Net.IPAddress (.NET Framework 4.x public properties, reflection order)."""
    a = ipaddress.ip_address(text)
    if a.version == 4:
        # IPAddress.Address: the address as stored, network byte order read as a little-endian
        # long (0 for 0.0.0.0); ScopeId throws for IPv4 -> null.
        address_long = int.from_bytes(a.packed, "little")
        return Obj(
            [
                ("Address", address_long),
                ("AddressFamily", AF_INET),
                ("ScopeId", None),
                ("IsIPv6Multicast", False),
                ("IsIPv6LinkLocal", False),
                ("IsIPv6SiteLocal", False),
                ("IsIPv6Teredo", False),
                ("IsIPv4MappedToIPv6", False),
            ],
            str(a),
        )
    return Obj(
        [
            ("Address", None),  # throws for IPv6
            ("AddressFamily", AF_INET6),
            ("ScopeId", 0),
            ("IsIPv6Multicast", a.is_multicast),
            ("IsIPv6LinkLocal", a.is_link_local),
            ("IsIPv6SiteLocal", a.is_site_local),
            ("IsIPv6Teredo", a.teredo is not None),
            ("IsIPv4MappedToIPv6", a.ipv4_mapped is not None),
        ],
        a.compressed,
    )


def ip_binding(address: str, port: int) -> Obj:
    """Microsoft.Exchange.Data.IPBinding (: IPEndPoint); property order as in the CSS-Exchange
    CLIXML fixture (Port, AddressFamily, Address). ToString "0.0.0.0:25" / "[::]:25"."""
    a = ipaddress.ip_address(address)
    text = ("[%s]:%d" % (a.compressed, port)) if a.version == 6 else ("%s:%d" % (a, port))
    return Obj(
        [
            ("Port", port),
            ("AddressFamily", AF_INET6 if a.version == 6 else AF_INET),
            ("Address", ip_address(address)),
        ],
        text,
    )


_V4_MAPPED = 0x0000FFFF00000000
_MASK64 = (1 << 64) - 1


def _ipvx(text: str) -> tuple:
    a = ipaddress.ip_address(text)
    if a.version == 4:
        return 0, _V4_MAPPED | int(a)
    v = int(a)
    return v >> 64, v & _MASK64


def _ipvx_obj(high: int, low: int) -> Obj:
    """Microsoft.Exchange.Data.IPvxAddress (a struct; public instance properties only)."""
    mapped = (low & 0xFFFFFFFF00000000) == _V4_MAPPED and high == 0
    compatible = (
        high == 0 and low != 1 and (low & 0xFFFFFFFF00000000) == 0 and (low & 0xFFFFFFFFFFFF0000) != 0
    )
    family = AF_INET if (mapped or compatible) else AF_INET6
    site_local = (high & 0xFFC0000000000000) == 0xFEC0000000000000
    link_local = (high & 0xFFC0000000000000) == 0xFE80000000000000
    broadcast = family != AF_INET6 and high == 0 and low == 0x0000FFFFFFFFFFFF
    if family == AF_INET6:
        multicast = (high & 0xFF00000000000000) == 0xFF00000000000000
    else:
        multicast = (low & 0xFFFFFFFFF0000000) == 0xFFFFFFFFE0000000
    if family == AF_INET:
        text = str(ipaddress.IPv4Address(low & 0xFFFFFFFF))
    else:
        text = ipaddress.IPv6Address((high << 64) | low).compressed
    return Obj(
        [
            ("IsIPv4Mapped", mapped),
            ("IsIPv4Compatible", compatible),
            ("IsIPv6SiteLocal", site_local),
            ("IsIPv6LinkLocal", link_local),
            ("AddressFamily", family),
            ("IsBroadcast", broadcast),
            ("IsMulticast", multicast),
        ],
        text,
    )


def ip_range(expression: str) -> Obj:
    """Microsoft.Exchange.Data.IPRange for a Lo-Hi expression such as 0.0.0.0-255.255.255.255.

    Netmask and CIDRLength throw for a Lo-Hi range (-> null); RangeFormat LoHi = 3; Size is
    end - start + 1 (all ones on overflow).
    """
    lo_text, hi_text = expression.split("-")
    lo = _ipvx(lo_text)
    hi = _ipvx(hi_text)
    lo_v = (lo[0] << 64) | lo[1]
    hi_v = (hi[0] << 64) | hi[1]
    size = hi_v - lo_v + 1
    if size >= 1 << 128:
        size = (1 << 128) - 1
    return Obj(
        [
            ("LowerBound", _ipvx_obj(*lo)),
            ("UpperBound", _ipvx_obj(*hi)),
            ("Netmask", None),
            ("CIDRLength", None),
            ("RangeFormat", 3),
            ("Size", _ipvx_obj(size >> 64, size & _MASK64)),
            ("Expression", expression),
        ],
        expression,
    )


# --- ADObjectId ------------------------------------------------------------------------------


def _split_dn(dn: str) -> list:
    parts, cur, i = [], [], 0
    while i < len(dn):
        c = dn[i]
        if c == "\\" and i + 1 < len(dn):
            cur.append(dn[i : i + 2])
            i += 2
            continue
        if c == ",":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def ad_name(rdn: str) -> Obj:
    """Microsoft.Exchange.Data.Directory.AdName: Prefix, EscapedName, UnescapedName."""
    prefix, _, value = rdn.partition("=")
    return Obj(
        [("Prefix", prefix), ("EscapedName", value), ("UnescapedName", _unescape(value))],
        prefix + "=" + value,
    )


def _rdn_value(rdn: str) -> str:
    return _unescape(rdn.partition("=")[2])


def _is_config(dn_lower: str) -> bool:
    return (
        "cn=microsoft exchange,cn=services,cn=configuration,dc=" in dn_lower
        or "cn=microsoft exchange,cn=services,cn=configuration,ou=" in dn_lower
        or ",cn=configurationunits,dc=" in dn_lower
        # Edge Transport (AD LDS): ADSession.IsBoundToAdam and a "CN={guid}" naming context
        or "cn=microsoft exchange,cn=services,cn=configuration,cn={" in dn_lower
    )


def _config_tostring(dn: str) -> str:
    """ADObjectId.ResolveConfigNCToString (the cases that occur for connectors and servers)."""
    parts = _split_dn(dn)
    name = _rdn_value(parts[0])
    if len(parts) < 5:
        return name
    low = dn.lower()
    text2, text3 = _rdn_value(parts[1]), _rdn_value(parts[2])
    value, value2 = _rdn_value(parts[3]), _rdn_value(parts[4])
    if "cn=servers," in low and "cn=administrative groups," in low:
        if text2.lower() == "informationstore" and value.lower() == "servers":
            return text3 + "\\" + name
        if text3.lower() == "informationstore" and value2.lower() == "servers":
            return value + "\\" + text2 + "\\" + name
        if text3.lower() == "protocols" and value2.lower() == "servers":
            return value + "\\" + name
    return name


def _canonical(dn: str) -> str:
    """NativeHelpers.CanonicalNameFromDistinguishedName (DsCrackNames DN -> canonical name),
    with the trailing "/" of a domain root trimmed. A DN without DC= components (the AD LDS
    "CN={guid}" naming context on an Edge server) cannot be cracked; ADObjectId.ToString() then
    returns the DN itself [UNVERIFIED for Edge]."""
    parts = _split_dn(dn)
    dcs = [p for p in parts if p.upper().startswith("DC=")]
    if not dcs:
        return dn
    others = [p for p in parts if not p.upper().startswith("DC=")]
    domain = ".".join(_rdn_value(p) for p in dcs)
    if not others:
        return domain
    return domain + "/" + "/".join(_rdn_value(p) for p in reversed(others))


def _domain_dn(dn: str):
    idx = dn.upper().find("DC=")
    if idx >= 0:
        return dn[idx:]
    idx = dn.upper().rfind("CN={")
    if idx >= 0:
        return dn[idx:]
    return None


def ad_object_id(
    dn: str,
    object_guid: str = EMPTY_GUID,
    partition_guid: str = EMPTY_GUID,
    partition_fqdn: str = None,
) -> Obj:
    """Microsoft.Exchange.Data.Directory.ADObjectId for a DN.

    Properties (CLIXML fixture order): OrgHierarchyToIgnore, IsDeleted, Rdn (AdName), Parent
    (ADObjectId), Depth, DistinguishedName, IsRelativeDn, DomainId (ADObjectId),
    PartitionGuid, PartitionFQDN, ObjectGuid, Name. Parent and DomainId are built lazily: they
    are ADObjectIds without GUIDs, as the Parent/DomainId getters create them.
    """
    parts = _split_dn(dn)
    low = dn.lower()
    tostring = _config_tostring(dn) if _is_config(low) else _canonical(dn)

    def props():
        parent_dn = dn[len(parts[0]) + 1 :] if len(parts) > 1 else None
        domain_dn = _domain_dn(dn)
        domain = ad_object_id(domain_dn) if domain_dn else None
        pfqdn = partition_fqdn
        if pfqdn is None:
            pfqdn = domain.tostring if domain is not None else ""
        return [
            ("OrgHierarchyToIgnore", None),
            ("IsDeleted", False),
            ("Rdn", ad_name(parts[0])),
            ("Parent", ad_object_id(parent_dn) if parent_dn else None),
            ("Depth", len(parts) - 1),
            ("DistinguishedName", dn),
            ("IsRelativeDn", False),
            ("DomainId", domain),
            ("PartitionGuid", partition_guid),
            ("PartitionFQDN", pfqdn),
            ("ObjectGuid", object_guid),
            ("Name", _rdn_value(parts[0])),
        ]

    return Obj(props, tostring)


# --- distinguished names of Exchange configuration objects -------------------------------------

ADMIN_GROUP = "CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups"
ROUTING_GROUP = "CN=Exchange Routing Group (DWBGZMFD01QNBJR),CN=Routing Groups"


def config_nc(ad_domain: str = None, adam_guid: str = None) -> str:
    """The configuration naming context: CN=Configuration,DC=... (AD) or CN={guid} (AD LDS)."""
    if adam_guid:
        return "CN=Configuration,CN={%s}" % adam_guid.upper()
    return "CN=Configuration," + ",".join("DC=" + p for p in ad_domain.split("."))


def exchange_org_dn(org: str, cnc: str) -> str:
    return "CN=%s,CN=Microsoft Exchange,CN=Services,%s" % (org, cnc)


def server_dn(server: str, org: str, cnc: str) -> str:
    return "CN=%s,CN=Servers,%s,%s" % (server, ADMIN_GROUP, exchange_org_dn(org, cnc))


def receive_connector_dn(name: str, server: str, org: str, cnc: str) -> str:
    return "CN=%s,CN=SMTP Receive Connectors,CN=Protocols,%s" % (name, server_dn(server, org, cnc))


def send_connector_dn(name: str, org: str, cnc: str) -> str:
    return "CN=%s,CN=Connections,%s,%s,%s" % (name, ROUTING_GROUP, ADMIN_GROUP, exchange_org_dn(org, cnc))

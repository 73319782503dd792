"""Identity facts the Microsoft 365 and Entra writers must agree on.

A user's object id is the Entra ``userId`` and the M365 ``UserKey`` of its sign-in
records; the Exchange PUID, mailbox GUID and SID appear in every Exchange record.  They
are derived from (tenant, UPN) by hashing, so both writers produce the same values
without sharing state and a user keeps them for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

from dwelltime.simulate.activity import Client
from dwelltime.simulate.model import Org
from dwelltime.simulate.writers._base import stable_guid, stable_int

#: Office 365 Exchange Online: the resource of most mail sign-ins.
EXCHANGE_RESOURCE = ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online")
GRAPH_RESOURCE = ("00000003-0000-0000-c000-000000000000", "Microsoft Graph")
#: Used when an activity carries no client (e.g. a password-guessing script).
DEFAULT_APP = ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online")
DEFAULT_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
)

#: What Entra reports for a failed sign-in when the activity gives no reason.
FAILURE_REASONS = {
    50126: "Error validating credentials due to invalid username or password.",
    50053: "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
    50034: "The user account does not exist in the directory.",
    50055: "The password is expired.",
    50057: "User account is disabled.",
    50074: "Strong Authentication is required.",
    50076: "Due to a configuration change made by your administrator, or because you moved to a new location, "
    "you must use multi-factor authentication to access the resource.",
    50140: "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
    53003: "Access has been blocked by Conditional Access policies.",
    500121: "Authentication failed during strong authentication request.",
}
#: UAL ``LogonError`` names of the same codes.
LOGON_ERRORS = {
    50126: "InvalidUserNameOrPassword",
    50053: "IdsLocked",
    50034: "UserAccountNotFound",
    50055: "InvalidPasswordExpiredPassword",
    50057: "UserDisabled",
    50074: "UserStrongAuthClientAuthNRequiredInterrupt",
    50076: "UserStrongAuthClientAuthNRequired",
    50140: "KmsiInterrupt",
    53003: "BlockedByConditionalAccess",
    500121: "AuthenticationFailedSasError",
}

#: City -> (state, latitude, longitude) as Entra's location block reports them.
CITIES: dict[str, tuple[str, float, float]] = {
    "Tokyo": ("Tokyo", 35.6895, 139.6917),
    "Chiyoda": ("Tokyo", 35.694, 139.7536),
    "Minato": ("Tokyo", 35.6581, 139.7514),
    "Shinjuku": ("Tokyo", 35.6938, 139.7034),
    "Yokohama": ("Kanagawa", 35.4437, 139.638),
    "Kawasaki": ("Kanagawa", 35.5308, 139.7029),
    "Saitama": ("Saitama", 35.8617, 139.6455),
    "Chiba": ("Chiba", 35.6074, 140.1065),
    "Osaka": ("Osaka", 34.6937, 135.5023),
    "Kyoto": ("Kyoto", 35.0116, 135.7681),
    "Kobe": ("Hyogo", 34.6901, 135.1955),
    "Nagoya": ("Aichi", 35.1815, 136.9066),
    "Fukuoka": ("Fukuoka", 33.5904, 130.4017),
    "Sapporo": ("Hokkaido", 43.0618, 141.3545),
    "Sendai": ("Miyagi", 38.2682, 140.8694),
    "Hiroshima": ("Hiroshima", 34.3853, 132.4553),
    "Naha": ("Okinawa", 26.2124, 127.6809),
    "Seoul": ("Seoul", 37.5665, 126.978),
    "Busan": ("Busan", 35.1796, 129.0756),
    "Beijing": ("Beijing", 39.9042, 116.4074),
    "Shanghai": ("Shanghai", 31.2304, 121.4737),
    "Shenzhen": ("Guangdong", 22.5431, 114.0579),
    "Hong Kong": ("Hong Kong", 22.3193, 114.1694),
    "Taipei": ("Taipei", 25.033, 121.5654),
    "Singapore": ("Singapore", 1.3521, 103.8198),
    "Bangkok": ("Bangkok", 13.7563, 100.5018),
    "Hanoi": ("Hanoi", 21.0278, 105.8342),
    "Ho Chi Minh City": ("Ho Chi Minh", 10.8231, 106.6297),
    "Jakarta": ("Jakarta", -6.2088, 106.8456),
    "Kuala Lumpur": ("Kuala Lumpur", 3.139, 101.6869),
    "Manila": ("Metro Manila", 14.5995, 120.9842),
    "Mumbai": ("Maharashtra", 19.076, 72.8777),
    "Bengaluru": ("Karnataka", 12.9716, 77.5946),
    "Sydney": ("New South Wales", -33.8688, 151.2093),
    "Melbourne": ("Victoria", -37.8136, 144.9631),
    "Los Angeles": ("California", 34.0522, -118.2437),
    "San Francisco": ("California", 37.7749, -122.4194),
    "San Jose": ("California", 37.3382, -121.8863),
    "Seattle": ("Washington", 47.6062, -122.3321),
    "New York": ("New York", 40.7128, -74.006),
    "Washington": ("District of Columbia", 38.9072, -77.0369),
    "Ashburn": ("Virginia", 39.0438, -77.4874),
    "Chicago": ("Illinois", 41.8781, -87.6298),
    "Dallas": ("Texas", 32.7767, -96.797),
    "Toronto": ("Ontario", 43.6532, -79.3832),
    "London": ("England", 51.5074, -0.1278),
    "Amsterdam": ("North Holland", 52.3676, 4.9041),
    "Frankfurt": ("Hesse", 50.1109, 8.6821),
    "Frankfurt am Main": ("Hesse", 50.1109, 8.6821),
    "Paris": ("Ile-de-France", 48.8566, 2.3522),
    "Stockholm": ("Stockholm", 59.3293, 18.0686),
    "Zurich": ("Zurich", 47.3769, 8.5417),
    "Moscow": ("Moscow", 55.7558, 37.6173),
    "Saint Petersburg": ("Saint Petersburg", 59.9311, 30.3609),
    "Bucharest": ("Bucuresti", 44.4268, 26.1025),
    "Kyiv": ("Kyiv City", 50.4501, 30.5234),
    "Istanbul": ("Istanbul", 41.0082, 28.9784),
    "Dubai": ("Dubai", 25.2048, 55.2708),
    "Tehran": ("Tehran", 35.6892, 51.389),
    "Lagos": ("Lagos", 6.5244, 3.3792),
    "Sao Paulo": ("Sao Paulo", -23.5505, -46.6333),
}
#: Country -> a city to report when the activity's network names none.
COUNTRY_CITY = {
    "JP": "Tokyo",
    "KR": "Seoul",
    "CN": "Beijing",
    "HK": "Hong Kong",
    "TW": "Taipei",
    "SG": "Singapore",
    "TH": "Bangkok",
    "VN": "Hanoi",
    "ID": "Jakarta",
    "MY": "Kuala Lumpur",
    "PH": "Manila",
    "IN": "Mumbai",
    "AU": "Sydney",
    "US": "Ashburn",
    "CA": "Toronto",
    "GB": "London",
    "NL": "Amsterdam",
    "DE": "Frankfurt",
    "FR": "Paris",
    "SE": "Stockholm",
    "CH": "Zurich",
    "RU": "Moscow",
    "RO": "Bucharest",
    "UA": "Kyiv",
    "TR": "Istanbul",
    "AE": "Dubai",
    "IR": "Tehran",
    "NG": "Lagos",
    "BR": "Sao Paulo",
}


@dataclass(frozen=True, slots=True)
class Identity:
    """A user's ids as Entra and Exchange Online write them."""

    upn: str
    object_id: str  # Entra userId, AAD UserKey
    puid: str  # Exchange UserKey: 16 hex digits, "1003..." for tenant users
    mailbox_guid: str
    sid: str  # on-prem style SID that Exchange Online still reports
    display_name: str


class Identities:
    """Per-user ids, derived once and cached (a few thousand users at most)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._cache: dict[str, Identity] = {}
        self._names = {u.upn: u.name_en for u in org.users}

    def of(self, upn: str) -> Identity:
        found = self._cache.get(upn)
        if found is None:
            found = self._derive(upn)
            self._cache[upn] = found
        return found

    def known(self, upn: str) -> bool:
        return upn in self._names

    def _derive(self, upn: str) -> Identity:
        tenant = self.org.tenant_id
        if upn not in self._names:  # not a tenant user: what Entra shows for unknown names
            return Identity(upn, "00000000-0000-0000-0000-000000000000", "", "", "", "")
        n = stable_int(tenant, upn, "sid")
        parts = (n % 4_000_000_000, (n >> 32) % 4_000_000_000, (n >> 64) % 4_000_000_000, (n >> 96) % 90_000 + 10_000)
        sid = "S-1-5-21-" + "-".join(str(p) for p in parts)
        puid = f"1003{stable_int(tenant, upn, 'puid') % (1 << 48):012X}"
        return Identity(
            upn=upn,
            object_id=stable_guid(tenant, upn, "object"),
            puid=puid,
            mailbox_guid=stable_guid(tenant, upn, "mailbox"),
            sid=sid,
            display_name=self._names[upn],
        )


def app_of(client: Client | None) -> tuple[str, str]:
    if client is None or not client.app_id:
        return DEFAULT_APP
    return client.app_id, client.app_name


def resource_of(client: Client | None) -> tuple[str, str]:
    """Exchange for mail clients; Graph for scripts and REST apps (what they call)."""
    if client is not None and (client.protocol == "rest" or client.kind == "script"):
        return GRAPH_RESOURCE
    return EXCHANGE_RESOURCE


def device_of(user_agent: str) -> tuple[str, str]:
    """(operating system, browser) the way Entra names them, read from a user agent."""
    ua = user_agent
    if "Windows NT 10.0" in ua:
        os_name = "Windows 10"
    elif "Windows" in ua:
        os_name = "Windows"
    elif "iPhone" in ua or "iPad" in ua or "iOS" in ua:
        os_name = "Ios"
    elif "Android" in ua:
        os_name = "Android"
    elif "Mac OS X" in ua or "Macintosh" in ua:
        os_name = "MacOs"
    elif "Linux" in ua:
        os_name = "Linux"
    else:
        os_name = ""
    browser = ""
    for marker, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")):
        at = ua.find(marker)
        if at >= 0:
            version = ua[at + len(marker) :].split(" ", 1)[0]
            browser = f"{name} {version}"
            break
    if not browser:
        if "python-requests" in ua or "Python" in ua:
            browser = "Python Requests"
        elif ua:
            browser = "Rich Client"
    return os_name, browser


def location_of(city: str, country: str) -> dict[str, object]:
    """Entra's ``location`` block; coordinates of the named city or the country's main city."""
    name = city if city in CITIES else COUNTRY_CITY.get(country, "")
    state, lat, lon = CITIES.get(name, ("", 0.0, 0.0))
    return {
        "city": city or name,
        "state": state,
        "countryOrRegion": country,
        "geoCoordinates": {"altitude": None, "latitude": lat, "longitude": lon} if name else None,
    }

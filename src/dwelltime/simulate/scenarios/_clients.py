"""Clients attackers use, described the way the logs describe them.

Application ids are the public first-party client ids that offensive tooling borrows
(they need no app registration, so stolen credentials or tokens work with them directly).
"""

from __future__ import annotations

import random

from dwelltime.simulate.activity import Client

REST_INFO = "Client=REST;Client=RESTSystem;;"
DESKTOP_APPS = "Mobile Apps and Desktop clients"

MS_OFFICE = ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office")
GRAPH_CLI = ("14d82eec-204b-4c2f-b7e8-296a70dab67e", "Microsoft Graph Command Line Tools")
AZURE_PS = ("1950a258-227b-4e31-a9cf-717495945fc2", "Microsoft Azure PowerShell")
EXCHANGE_ONLINE = ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online")

# Scripted IMAP libraries, as an IMAP ID string / client name would show them.
_IMAP_LIBRARIES = (
    "IMAPClient/3.0.1 (Python 3.11.4)",
    "MailKit/4.3.0",
    "go-imap/1.2.1",
    "imaplib2/3.6",
)

# Scripted Graph clients: (user agent, (app id, app name)).
_GRAPH_SCRIPTS = (
    ("python-requests/2.31.0", MS_OFFICE),
    ("Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.1", GRAPH_CLI),
    ("python-requests/2.28.2", AZURE_PS),
)

_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 "
    "Edg/122.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)


def imap_script(rng: random.Random) -> Client:
    """A scripted IMAP client (no mail program: a library in a loop)."""
    return Client("script", rng.choice(_IMAP_LIBRARIES), "Client=IMAP4", "IMAP4", "", "", "imap")


def imap_bare() -> Client:
    """An IMAP login by a tool that sends no ID at all (spray kits)."""
    return Client("script", "", "Client=IMAP4", "IMAP4", "", "", "imap")


def smtp_bare() -> Client:
    """An SMTP AUTH attempt by a tool (spray kits against the submission port)."""
    return Client("script", "", "Client=SMTP", "Authenticated SMTP", "", "", "smtp")


def graph_script(rng: random.Random) -> Client:
    """A script calling Microsoft Graph with a borrowed public client id."""
    ua, (app_id, app_name) = rng.choice(_GRAPH_SCRIPTS)
    return Client("script", ua, REST_INFO, DESKTOP_APPS, app_id, app_name, "rest")


def browser_ua(rng: random.Random) -> str:
    return rng.choice(_BROWSERS)


def owa(user_agent: str) -> Client:
    """Outlook on the web in a browser with the given user agent."""
    return Client("owa", user_agent, "Client=OWA;Action=ViaProxy", "Browser", *EXCHANGE_ONLINE, "owa")


def spray_client(rng: random.Random) -> Client:
    """What cloud password-spray kits look like in Entra sign-ins (ROPC or legacy basic auth)."""
    kind = rng.randrange(3)
    if kind == 0:
        return Client("script", "BAV2ROPC", "", "Other clients", *EXCHANGE_ONLINE, "ews")
    if kind == 1:
        return Client("script", "fasthttp", "", DESKTOP_APPS, *AZURE_PS, "rest")
    return Client("script", "python-requests/2.31.0", "", DESKTOP_APPS, *MS_OFFICE, "rest")


def app_client(rng: random.Random, app_id: str, app_name: str) -> Client:
    """A third-party web application reading mail through Graph with a delegated token."""
    ua = rng.choice(("python-requests/2.31.0", "Go-http-client/2.0", "axios/1.6.8", "node-fetch/1.0"))
    return Client("script", ua, REST_INFO, DESKTOP_APPS, app_id, app_name, "rest")

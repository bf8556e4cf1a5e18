#!/usr/bin/env python3
"""Generate the quickstart's example export: examples/quickstart/export/.

What it produces: a small but realistic export of a generic mail system in the
layout the `export-dir` source adapter reads:

    accounts.csv              10 accounts on acme.example and globex.example
    classes_of_service.csv    the `staff` and `executive` classes of service
    domains.csv               the two domains
    distribution_lists.csv    one list per domain (no header, official layout:
                              listAddress,description,displayName,member,...)
    mail/<address>/<folder>/.../NNNN.eml   one directory per folder, one
                              RFC 5322 message (CRLF line ends) per file
    mail/<address>/<folder path>.mbox      an mboxrd file is one folder
    calendar/<address>.ics    iCalendar, CRLF line ends
    contacts/<address>.vcf    vCard 3.0, CRLF line ends

About 200 messages (uneven: one account has 60, others 5) in INBOX, Sent,
Drafts, Trash and nested folders with non-ASCII names; a zero-byte mbox stands
for an empty folder because git does not keep empty directories.  Messages mix
text/plain, multipart/alternative and multipart/mixed with base64 attachments
of pseudo-random bytes, RFC 2047 and raw 8-bit subjects, RFC 2231 file names,
a nested message/rfc822, two messages sharing a Message-ID and one without
any.  Flags are in `Status`, `X-Status` and `X-Keywords` headers.

The output is committed to the repository, so the quickstart needs no Python;
this script exists so the data can be reviewed and regenerated.  It uses only
the standard library, a fixed seed and no current-time values: re-running it
deletes the export directory and rewrites byte-identical files.

Passwords of the example accounts (the hashed ones are stored as {SSHA}):
see ACCOUNTS below.

Usage: python3 scripts/make-quickstart-export.py [OUTPUT_DIR]
"""

import base64
import csv
import hashlib
import io
import quopri
import random
import shutil
import sys
import textwrap
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 2026
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "examples" / "quickstart" / "export"

rng = random.Random(SEED)

# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

# Time zones as (standard offset, summer offset) in minutes; None = no DST.
TZ_CENTRAL_EUROPE = (60, 120)
TZ_UK = (0, 60)
TZ_JAPAN = (540, None)
TZ_US_EAST = (-300, -240)
TZ_US_WEST = (-480, -420)
TZ_INDIA = (330, None)
TZ_NEWFOUNDLAND = (-210, -150)
TZ_NIGERIA = (60, None)
TZ_BRAZIL = (-180, None)

# password: ("clear", secret, must_change) | ("ssha", secret) | ("none",)
ACCOUNTS = [
    dict(email="zoe.mueller@acme.example", given="Zoë", surname="Müller",
         display="Zoë Müller", lang="de", tz=TZ_CENTRAL_EUROPE, cos="staff",
         password=("clear", "Quickstart-Zoe-2026!", True), recovery="",
         aliases=[], source_user=""),
    dict(email="jose.nunez@acme.example", given="José", surname="Núñez",
         display="José Núñez", lang="es", tz=TZ_CENTRAL_EUROPE, cos="executive",
         password=("ssha", "Sevilla-1987"), recovery="",
         aliases=["pepe@acme.example", "j.nunez@acme.example"], source_user=""),
    dict(email="ijsbrand.devries@acme.example", given="Ĳsbrand", surname="de Vries",
         display="Ĳsbrand de Vries", lang="nl", tz=TZ_CENTRAL_EUROPE, cos="staff",
         password=("none",), recovery="ijsbrand.prive@mailbox.example",
         aliases=[], source_user=""),
    dict(email="lukasz.zolw@acme.example", given="Łukasz", surname="Żółw",
         display="Łukasz Żółw", lang="pl", tz=TZ_CENTRAL_EUROPE, cos="",
         password=("ssha", "Zolw-Krakow-42"), recovery="",
         aliases=[], source_user="l.zolw"),
    dict(email="chiara.rossi@acme.example", given="Chiara", surname="Rossi",
         display='Rossi, Chiara "Kiki"', lang="it", tz=TZ_CENTRAL_EUROPE, cos="staff",
         password=("clear", "Quickstart-Chiara-2026!", True), recovery="",
         aliases=["kiki@acme.example"], source_user=""),
    dict(email="sven.astrom@acme.example", given="Sven", surname="Åström",
         display="Sven Åström", lang="sv", tz=TZ_CENTRAL_EUROPE, cos="",
         password=("none",), recovery="sven.astrom@fjord.example",
         aliases=[], source_user=""),
    dict(email="hiroshi.tanaka@globex.example", given="博", surname="田中",
         display="田中 博 (Hiroshi Tanaka)", signature="田中 博", lang="ja", tz=TZ_JAPAN, cos="executive",
         password=("ssha", "Sakura-Tokyo-2020"), recovery="",
         aliases=["tanaka@globex.example"], source_user=""),
    dict(email="amelie.dubois@globex.example", given="Amélie", surname="Dubois",
         display="Dubois, Amélie", lang="fr", tz=TZ_CENTRAL_EUROPE, cos="executive",
         password=("clear", "Quickstart-Amelie-2026!", False), recovery="",
         aliases=[], source_user=""),
    dict(email="olumide.adeyemi@globex.example", given="Olúmídé", surname="Adéyẹmí",
         display="Olúmídé Adéyẹmí", lang="en", tz=TZ_NIGERIA, cos="staff",
         password=("none",), recovery="olumide.a@lagosmail.example",
         aliases=[], source_user=""),
    dict(email="sara.lindqvist@globex.example", given="Sara", surname="Lindqvist",
         display="Sara Lindqvist", lang="en", tz=TZ_UK, cos="",
         password=("clear", "Quickstart-Sara-2026!", True), recovery="",
         aliases=[], source_user=""),
]
ACCOUNT_BY_EMAIL = {a["email"]: a for a in ACCOUNTS}

EXTERNALS = [
    dict(email="m.bianchi@studio-bianchi.example", display="Marco Bianchi", given="Marco",
         lang="it", tz=TZ_CENTRAL_EUROPE),
    dict(email="newsletter@buecherwelt.example", display="Bücherwelt Newsletter", given="",
         lang="de", tz=TZ_CENTRAL_EUROPE),
    dict(email="erik@nordlys.example", display="Erik Sørensen", given="Erik",
         lang="en", tz=TZ_CENTRAL_EUROPE),
    dict(email="priya.raman@initech.example", display="Priya Raman", given="Priya",
         lang="en", tz=TZ_INDIA),
    dict(email="noreply@banque-exemple.example", display="Banque Exemple – Service client",
         given="", lang="fr", tz=TZ_CENTRAL_EUROPE),
    dict(email="hanako.sato@kaisha.example", display="佐藤 花子", given="花子",
         lang="ja", tz=TZ_JAPAN),
    dict(email="lucia@fernandez-asesores.example", display="Lucía Fernández", given="Lucía",
         lang="es", tz=TZ_CENTRAL_EUROPE),
    dict(email="ci@builds.example", display="Build Bot", given="",
         lang="en", tz=TZ_US_WEST),
    dict(email="dan.okafor@umbrella.example", display="Dan O'Kafor", given="Dan",
         lang="en", tz=TZ_US_EAST),
    dict(email="claire@stjohns-consulting.example", display="Claire Whelan", given="Claire",
         lang="en", tz=TZ_NEWFOUNDLAND),
    dict(email="rafael@saopaulo-tech.example", display="Rafael Conceição", given="Rafael",
         lang="en", tz=TZ_BRAZIL),
]

DOMAINS = [
    ("acme.example", "Acme Corporation – head office, Milano & Berlin"),
    ("globex.example", "Globex Ltd., Tokyo and London branches"),
]

CLASSES_OF_SERVICE = [
    ("staff", 5368709120, "TRUE"),
    ("executive", 21474836480, "TRUE"),
]

DISTRIBUTION_LISTS = [
    ("all-staff@acme.example", "Everyone at Acme, including the external auditor",
     "Acme – All Staff",
     ["zoe.mueller@acme.example", "jose.nunez@acme.example",
      "ijsbrand.devries@acme.example", "chiara.rossi@acme.example",
      "m.bianchi@studio-bianchi.example"]),
    ("sales@globex.example", "Sales team (Tokyo & London)", "Globex Sales",
     ["hiroshi.tanaka@globex.example", "amelie.dubois@globex.example",
      "sara.lindqvist@globex.example", "hanako.sato@kaisha.example"]),
]

SERVER_OF_DOMAIN = {
    "acme.example": ("mx.acme.example", "192.0.2.25", TZ_CENTRAL_EUROPE),
    "globex.example": ("mail.globex.example", "192.0.2.80", TZ_UK),
}

MAILERS = [
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1",
    "X-Mailer: Microsoft Outlook 16.0",
    "X-Mailer: Zimbra 8.8.15_GA_4484 (ZimbraWebClient - FF118 (Linux)/8.8.15_GA_4481)",
    "User-Agent: Roundcube Webmail/1.4.13",
    "X-Mailer: Apple Mail (2.3608.120.23.2.7)",
    None,
]

# ---------------------------------------------------------------------------
# Text pools
# ---------------------------------------------------------------------------

TEXT = {
    "en": dict(
        subjects=["Quarterly report", "Meeting notes from Tuesday", "Invoice #{n}",
                  "Travel plans for the conference", "Server maintenance window",
                  "Lunch on Friday?", "Updated project timeline",
                  "Question about the contract", "Welcome aboard!",
                  "Your order has shipped", "Budget review {year}",
                  "Slides for the kickoff", "Résumé of the new candidate"],
        greet=["Hi {name},", "Dear {name},", "Hello {name},", "Hi,"],
        lines=["Thanks for sending this over so quickly.",
               "I had a look at the numbers and they mostly add up, but the Q3 travel costs look high.",
               "Could we move the call to Thursday afternoon? Wednesday is packed on my side.",
               "Attached is the latest version; the changes are highlighted in yellow.",
               "The maintenance window starts at 22:00 and should be over by midnight.",
               "Please let me know if anything is unclear before we send it to the client.",
               "I've booked the meeting room on the third floor for the whole morning.",
               "We agreed to revisit the pricing once the pilot is over.",
               "Nothing urgent, but it would be good to have this sorted before the holidays.",
               "The contract draft still refers to the old company address.",
               "Our supplier confirmed delivery for the end of next week.",
               "I'll be out of office from Monday, Priya will cover for me."],
        close=["Best regards,", "Thanks,", "Cheers,", "Kind regards,"],
        wrote="On {date}, {name} wrote:",
    ),
    "de": dict(
        subjects=["Protokoll der Besprechung", "Angebot für das Projekt",
                  "Urlaubsplanung {year}", "Rückfrage zur Rechnung {n}",
                  "Änderungen am Zeitplan", "Grüße aus München",
                  "Überweisung bestätigt", "Schulung nächste Woche",
                  "Größere Änderung am Vertrag"],
        greet=["Hallo {name},", "Guten Tag {name},", "Liebe {name},"],
        lines=["vielen Dank für die schnelle Rückmeldung.",
               "Anbei findest du die überarbeitete Fassung mit allen Änderungen.",
               "Können wir den Termin auf Donnerstag verschieben? Am Mittwoch bin ich beim Kunden.",
               "Die Überweisung ist heute Morgen rausgegangen, bitte kurz den Eingang bestätigen.",
               "Im Anhang liegt das Protokoll; die offenen Punkte sind fett markiert.",
               "Für die Schulung brauchen wir noch einen Raum mit Beamer für zwölf Personen.",
               "Ich bin ab Montag im Urlaub, bei Fragen bitte an Ĳsbrand wenden.",
               "Die Preise gelten bis Ende des Quartals, danach müssen wir neu verhandeln.",
               "Gib mir bitte Bescheid, ob das so für dich passt."],
        close=["Viele Grüße,", "Beste Grüße,", "Schöne Grüße,"],
        wrote="Am {date} schrieb {name}:",
    ),
    "es": dict(
        subjects=["Factura pendiente {n}", "Reunión del jueves", "Presupuesto {year}",
                  "Revisión del contrato", "Vacaciones de verano",
                  "Año nuevo, objetivos nuevos", "Documentación técnica",
                  "¿Comemos el viernes?"],
        greet=["Hola {name}:", "Estimado {name}:", "Buenos días, {name}:"],
        lines=["Gracias por la información, la reviso esta tarde.",
               "Te adjunto la factura corregida con el número de pedido.",
               "¿Podemos pasar la reunión al jueves por la mañana?",
               "El cliente ha confirmado el pedido, pero pide un descuento del cinco por ciento.",
               "La documentación técnica está en la carpeta compartida del proyecto.",
               "Estaré de vacaciones en agosto; Lucía se encargará de las facturas.",
               "Según lo acordado, el pago se hará en dos plazos.",
               "Avísame si necesitas algo más antes del cierre del año."],
        close=["Un saludo,", "Saludos cordiales,", "Un abrazo,"],
        wrote="El {date}, {name} escribió:",
    ),
    "it": dict(
        subjects=["Fattura n. {n}", "Riunione di lunedì", "Preventivo aggiornato",
                  "Ferie estive {year}", "Verbale della riunione",
                  "Novità sul progetto", "Perché il server è così lento?",
                  "Conferma d'ordine"],
        greet=["Ciao {name},", "Gentile {name},", "Buongiorno {name},"],
        lines=["grazie mille per la risposta veloce.",
               "In allegato trovi il preventivo aggiornato con le modifiche richieste.",
               "Possiamo spostare la riunione a lunedì pomeriggio?",
               "La fattura è stata pagata ieri con bonifico bancario.",
               "Il verbale è nella cartella condivisa, dimmi se manca qualcosa.",
               "Il server è lento da stamattina, ho già aperto un ticket all'assistenza.",
               "Sarò in ferie dal 5 al 23 agosto, per urgenze chiama Marco.",
               "Ti confermo l'ordine alle condizioni concordate al telefono."],
        close=["Cordiali saluti,", "A presto,", "Un saluto,"],
        wrote="Il giorno {date} {name} ha scritto:",
    ),
    "fr": dict(
        subjects=["Compte rendu de la réunion", "Facture à régler", "Déjeuner vendredi ?",
                  "Planning des congés {year}", "Présentation client",
                  "Mise à jour du contrat", "Votre relevé de compte est disponible"],
        greet=["Bonjour {name},", "Chère {name},", "Bonjour,"],
        lines=["merci pour votre retour rapide.",
               "Vous trouverez ci-joint le compte rendu de la réunion de mardi.",
               "La facture doit être réglée avant la fin du mois.",
               "Pouvons-nous décaler la présentation à la semaine prochaine ?",
               "Le planning des congés est à remplir avant le 15 mai.",
               "Le contrat mis à jour tient compte de vos remarques.",
               "N'hésitez pas à me contacter pour toute question."],
        close=["Cordialement,", "Bien à vous,", "Bonne journée,"],
        wrote="Le {date}, {name} a écrit :",
    ),
    "ja": dict(
        subjects=["会議の議事録", "見積書の送付", "来週の予定について", "出張報告",
                  "請求書のご確認", "新年のご挨拶", "メモ：サーバー移行"],
        greet=["{name}さん", "{name}様"],
        lines=["お疲れ様です。",
               "先日の会議の議事録を共有いたします。",
               "見積書を添付いたしましたので、ご確認ください。",
               "来週の打ち合わせは水曜日の午後でいかがでしょうか。",
               "大阪への出張について簡単に報告いたします。",
               "請求書の金額に誤りがありましたので、修正版をお送りします。",
               "サーバー移行は週末に実施予定です。"],
        close=["よろしくお願いいたします。", "以上、よろしくお願いします。"],
        wrote="{date} {name} wrote:",
    ),
    "nl": dict(
        subjects=["Vergadering donderdag", "Offerte bijgevoegd", "Vakantieplanning",
                  "IJsbaan-uitje met het team"],
        greet=["Hoi {name},", "Beste {name},"],
        lines=["bedankt voor je snelle reactie.",
               "In de bijlage vind je de offerte met de aangepaste prijzen.",
               "Kunnen we de vergadering naar donderdagochtend verplaatsen?",
               "Het ijsbaan-uitje is op vrijdag de twaalfde, iedereen is welkom.",
               "Laat maar weten of dit zo goed is."],
        close=["Groeten,", "Met vriendelijke groet,"],
        wrote="Op {date} schreef {name}:",
    ),
    "pl": dict(
        subjects=["Spotkanie w piątek", "Faktura za usługi {n}", "Zażółć gęślą jaźń – test",
                  "Plan urlopów {year}"],
        greet=["Cześć {name},", "Dzień dobry,"],
        lines=["dziękuję za szybką odpowiedź.",
               "W załączniku przesyłam fakturę za usługi z zeszłego miesiąca.",
               "Czy możemy przełożyć spotkanie na piątek rano?",
               "Plan urlopów trzeba uzupełnić do końca tygodnia.",
               "Daj znać, jeśli coś jest niejasne."],
        close=["Pozdrawiam,", "Z poważaniem,"],
        wrote="{date} {name} napisał(a):",
    ),
    "sv": dict(
        subjects=["Möte på torsdag", "Fakturan för maj", "Sommarstängning",
                  "Smörgåstårta till fikat"],
        greet=["Hej {name}!", "Hej,"],
        lines=["tack för snabbt svar.",
               "Bifogat finns fakturan för maj.",
               "Kontoret är stängt vecka 29 och 30.",
               "Vi bjuder på smörgåstårta på fredag klockan tre.",
               "Hör av dig om något är oklart."],
        close=["Hälsningar,", "Vänliga hälsningar,"],
        wrote="Den {date} skrev {name}:",
    ),
}

NEWSLETTER_LINES = [
    "Diese Woche neu im Sortiment: zwölf Krimis aus Skandinavien.",
    "Bis Sonntag 20 % Rabatt auf alle Hörbücher – nur online.",
    "Sie erhalten diese E-Mail, weil Sie unseren Newsletter abonniert haben.",
    "Zum Abbestellen klicken Sie bitte auf den Link am Ende dieser Nachricht.",
]

BUILD_LINES = [
    "Build #{n} of main failed at step 'test' after 4m 12s.",
    "Build #{n} of main passed (43 tests, 0 failures).",
    "The nightly release artifacts are ready for download.",
]

# (file name, MIME type, magic prefix)
ATTACHMENT_KINDS = [
    ("report-{year}.pdf", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
    ("Überweisung.png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("factura-{n}.pdf", "application/pdf", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"),
    ("Angebot_{year}.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ("foto vacanze.jpg", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    ("見積書.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     b"PK\x03\x04"),
    ("budget Q3.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     b"PK\x03\x04"),
    ("presentación.pptx",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation", b"PK\x03\x04"),
    ("scan0001.tif", "image/tiff", b"II*\x00"),
    ("Fattura_{n}.pdf", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
]

# ---------------------------------------------------------------------------
# Encoding helpers
# ---------------------------------------------------------------------------

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def local_time(utc, tz):
    """The aware local time of a naive UTC datetime in a (std, dst) zone."""
    std, dst = tz
    offset = dst if dst is not None and 4 <= utc.month <= 10 else std
    return (utc + timedelta(minutes=offset)).replace(tzinfo=timezone(timedelta(minutes=offset)))


def rfc5322_date(dt):
    off = int(dt.utcoffset().total_seconds() // 60)
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return (f"{WEEKDAYS[dt.weekday()]}, {dt.day} {MONTHS[dt.month - 1]} {dt.year} "
            f"{dt:%H:%M:%S} {sign}{off // 60:02d}{off % 60:02d}")


def asctime_utc(utc):
    return f"{WEEKDAYS[utc.weekday()]} {MONTHS[utc.month - 1]} {utc.day:2d} {utc:%H:%M:%S} {utc.year}"


def random_utc(start_year, end_year):
    start = datetime(start_year, 1, 1)
    end = datetime(end_year, 12, 31, 23, 59, 59)
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def is_ascii(text):
    return all(ord(c) < 128 for c in text)


def q_encode(raw):
    return "".join("_" if b == 0x20 else chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}"
                   for b in raw)


def encoded_words(text, mode):
    """RFC 2047 encoded words (UTF-8) of at most 60 characters, never splitting a character."""
    def fits(chunk):
        raw = chunk.encode("utf-8")
        return (len(raw) <= 36) if mode == "B" else len(q_encode(raw)) <= 48

    words, chunk = [], ""
    for ch in text:
        if not fits(chunk + ch):
            words.append(chunk)
            chunk = ""
        chunk += ch
    if chunk:
        words.append(chunk)
    out = []
    for w in words:
        raw = w.encode("utf-8")
        if mode == "B":
            out.append("=?UTF-8?B?" + base64.b64encode(raw).decode("ascii") + "?=")
        else:
            out.append("=?UTF-8?Q?" + q_encode(raw) + "?=")
    return out


def header_text(name, value, mode):
    """A header whose value is raw text (ASCII or 8-bit) or RFC 2047 words, folded."""
    if mode == "raw" or is_ascii(value):
        return f"{name}: {value}"
    return f"{name}: " + "\n ".join(encoded_words(value, mode))


def fold(header):
    """Fold each physical line of a header at spaces outside quoted strings, to 78 columns."""
    out = []
    for physical in header.split("\n"):
        tokens, cur, quoted = [], "", False
        for ch in physical:
            if ch == '"' and not cur.endswith("\\"):
                quoted = not quoted
            if ch == " " and not quoted and cur.strip():
                tokens.append(cur)
                cur = ""
            cur += ch
        tokens.append(cur)
        line = ""
        for tok in tokens:
            if line.strip() and len(line) + len(tok) > 78:
                out.append(line)
                line = tok if tok.startswith(" ") else " " + tok
            else:
                line += tok
        out.append(line)
    return "\n".join(out)


def mailbox(person):
    name = person["display"]
    if not name:
        return person["email"]
    if not is_ascii(name):
        return " ".join(encoded_words(name, "Q")) + f" <{person['email']}>"
    if any(c in name for c in ',."()<>@:;[]\\\''):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{person["email"]}>'
    return f"{name} <{person['email']}>"


def address_header(name, people):
    return f"{name}: " + ",\n ".join(mailbox(p) for p in people)


def message_id(domain):
    style = rng.randrange(3)
    if style == 0:
        return f"<{rng.getrandbits(64):016x}.{rng.getrandbits(32):08x}@{domain}>"
    if style == 1:
        return f"<{rng.getrandbits(48):012X}{rng.getrandbits(24):06X}@{domain}>"
    return f"<CA+{base64.b64encode(rng.randbytes(24)).decode('ascii')}@mail.{domain}>"


def boundary():
    return f"----=_Part_{rng.randrange(10000, 99999)}_{rng.getrandbits(40):010x}"


def wrap(paragraphs):
    out = []
    for p in paragraphs:
        out.append("\n".join(textwrap.wrap(p, 72)) if p else "")
    return "\n".join(out)


def qp(text):
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def b64_lines(data):
    enc = base64.b64encode(data).decode("ascii")
    return "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))


def html_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fold_content_line(line):
    """Fold an iCalendar/vCard content line at 75 octets, never inside a character."""
    out, cur = [], ""
    for ch in line:
        limit = 75 if not out else 74  # continuation lines start with a space
        if len((cur + ch).encode("utf-8")) > limit:
            out.append(cur)
            cur = ""
        cur += ch
    out.append(cur)
    return "\r\n ".join(out)


# ---------------------------------------------------------------------------
# MIME parts
# ---------------------------------------------------------------------------


def text_plain_part(text):
    if is_ascii(text):
        return "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n" + text
    if rng.random() < 0.5:
        return "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n" + text
    return ("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            + qp(text))


def text_html_part(paragraphs):
    body = "".join(f"<p>{html_escape(p)}</p>\n" if p else "<p><br></p>\n" for p in paragraphs)
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
            f'</head>\n<body style="font-family: Arial, sans-serif;">\n{body}</body></html>')
    return ("Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            + qp(html))


def alternative_part(paragraphs):
    b = boundary()
    return (f'Content-Type: multipart/alternative;\n boundary="{b}"\n\n'
            f"--{b}\n{text_plain_part(wrap(paragraphs))}\n"
            f"--{b}\n{text_html_part(paragraphs)}\n"
            f"--{b}--\n")


def attachment_part(filename, mime, data):
    if is_ascii(filename):
        ctype = f'Content-Type: {mime};\n name="{filename}"'
        disp = f'Content-Disposition: attachment;\n filename="{filename}"'
    else:
        encoded = urllib.parse.quote(filename.encode("utf-8"), safe="")
        ctype = f'Content-Type: {mime};\n name="{encoded_words(filename, "B")[0]}"'
        disp = f"Content-Disposition: attachment;\n filename*=UTF-8''{encoded}"
    return f"{ctype}\nContent-Transfer-Encoding: base64\n{disp}\n\n{b64_lines(data)}\n"


def attachment_data(magic, size):
    return magic + rng.randbytes(size - len(magic))


def attachment_size():
    return int(5000 + 55000 * rng.random() ** 2.2)


def mixed_part(body_part, attachments):
    b = boundary()
    parts = [body_part] + attachments
    inner = "".join(f"--{b}\n{p}\n" for p in parts)
    return f'Content-Type: multipart/mixed;\n boundary="{b}"\n\n' \
           f"This is a multi-part message in MIME format.\n\n{inner}--{b}--\n"


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

def first_name(person):
    return person.get("given") or ""


def subject_for(lang, when):
    s = rng.choice(TEXT[lang]["subjects"])
    return s.format(n=rng.randrange(100, 9999), year=when.year)


def signature(person):
    if person.get("signature"):
        return person["signature"]
    if person.get("surname"):
        return f"{person['given']} {person['surname']}"
    return person["display"] or person["email"]


def body_paragraphs(lang, sender, recipient, count=None, memo=False):
    t = TEXT[lang]
    name = first_name(recipient) or recipient["display"] or ""
    n = count if count is not None else rng.randint(1, 4)
    lines = rng.sample(t["lines"], min(n, len(t["lines"])))
    # Sentences written to follow the greeting's comma start in lower case.
    lines.sort(key=lambda l: not l[0].islower())
    if memo:
        return [l[0].upper() + l[1:] for l in lines]
    if lines[0][0].islower() and not t["greet"][0].endswith(","):
        lines[0] = lines[0][0].upper() + lines[0][1:]
    join = "" if lang == "ja" else " "
    paras = [rng.choice(t["greet"]).format(name=name), ""]
    # Group the lines into one or two paragraphs, like people write.
    if len(lines) > 2:
        paras += [join.join(lines[:2]), "", join.join(lines[2:])]
    else:
        paras.append(join.join(lines))
    paras += ["", rng.choice(t["close"]), signature(sender)]
    return paras


def quoted(lang, person, when, paragraphs):
    t = TEXT[lang]
    head = t["wrote"].format(date=rfc5322_date(when), name=person["display"] or person["email"])
    lines = wrap(paragraphs).split("\n")
    return ["", head] + [("> " + l) if l else ">" for l in lines]


def pick_subject_mode(subject, force=None):
    if force:
        mode = force
    elif is_ascii(subject):
        return "ascii"
    else:
        r = rng.random()
        mode = "B" if r < 0.4 else "Q" if r < 0.8 else "raw"
    return mode


def build_message(m):
    """Render a message spec as text with LF line ends."""
    h = []
    if m.get("received"):
        h.append(m["received"])
    h.append(f"Date: {rfc5322_date(m['date'])}")
    h.append(fold(address_header("From", [m["from"]])))
    h.append(fold(address_header("To", m["to"])))
    if m.get("cc"):
        h.append(fold(address_header("Cc", m["cc"])))
    subject = header_text("Subject", m["subject"], m["subject_mode"])
    h.append(subject if m["subject_mode"] == "raw" else fold(subject))
    if m.get("message_id"):
        h.append(f"Message-ID: {m['message_id']}")
    if m.get("in_reply_to"):
        h.append(f"In-Reply-To: {m['in_reply_to']}")
        h.append(f"References: {m['in_reply_to']}")
    if m.get("mailer"):
        h.append(m["mailer"])
    h.append("MIME-Version: 1.0")
    for key, name in (("status", "Status"), ("x_status", "X-Status"), ("x_keywords", "X-Keywords")):
        if m.get(key):
            h.append(f"{name}: {m[key]}")
    body = m["body"]
    return "\n".join(h) + "\n" + body


def render_body(kind, paragraphs, attachments):
    if kind == "plain":
        return text_plain_part(wrap(paragraphs)) + "\n"
    if kind == "alternative":
        return alternative_part(paragraphs)
    inner = alternative_part(paragraphs) if rng.random() < 0.5 else text_plain_part(wrap(paragraphs)) + "\n"
    return mixed_part(inner, attachments)


def random_attachment(when, forced=None):
    name, mime, magic = forced or rng.choice(ATTACHMENT_KINDS)
    name = name.format(year=when.year, n=f"{rng.randrange(1, 999):04d}")
    return attachment_part(name, mime, attachment_data(magic, attachment_size()))


def received_header(recipient, sender, local_when, hop_seconds):
    domain = recipient["email"].split("@")[1]
    host, ip, tz = SERVER_OF_DOMAIN[domain]
    sdomain = sender["email"].split("@")[1]
    when = local_time((local_when.astimezone(timezone.utc).replace(tzinfo=None)
                       + timedelta(seconds=hop_seconds)), tz)
    if sdomain == domain:
        # Internal mail: submitted by the webmail on the same server.
        origin = f"webmail.{domain} (webmail.{domain} [192.0.2.30])"
    else:
        origin = (f"mail.{sdomain}\n\t(mail.{sdomain} [198.51.100.{(sum(map(ord, sdomain)) % 250) + 3}])")
    return (f"Received: from {origin}\n"
            f"\tby {host} (Postfix) with ESMTPS id {rng.getrandbits(48):012X}\n"
            f"\tfor <{recipient['email']}>; {rfc5322_date(when)}")


# Senders nobody writes to.
NO_REPLY = ("newsletter@buecherwelt.example", "ci@builds.example", "noreply@banque-exemple.example")


def counterparts(account, outgoing=False):
    others = [a for a in ACCOUNTS if a is not account] + EXTERNALS
    return [p for p in others if not (outgoing and p["email"] in NO_REPLY)]


def pick_lang(account, other):
    if other.get("lang") == account["lang"]:
        return account["lang"]
    return rng.choice([account["lang"], other.get("lang", "en"), "en"])


def make_message(account, folder_kind, years, force=None):
    """A message spec for one folder of an account."""
    force = force or {}
    when_utc = random_utc(*force.get("years", years))
    outgoing = folder_kind in ("sent", "draft", "memo")
    other = force.get("other") or rng.choice(counterparts(account, outgoing))
    if other["email"] == "newsletter@buecherwelt.example":
        lang = "de"
    elif other["email"] == "ci@builds.example":
        lang = "en"
    else:
        lang = force.get("lang") or pick_lang(account, other)
    incoming = folder_kind in ("inbox", "trash", "other")
    if folder_kind == "memo":
        sender, recipient = account, account
        incoming = False
    elif incoming:
        sender, recipient = other, account
    else:
        sender, recipient = account, other
    when = local_time(when_utc, sender["tz"])

    subject = force.get("subject") or subject_for(lang, when)
    paragraphs = force.get("paragraphs") or body_paragraphs(lang, sender, recipient,
                                                            memo=folder_kind == "memo")
    in_reply_to = None
    if other["email"] == "newsletter@buecherwelt.example":
        subject = force.get("subject") or f"Bücherwelt Newsletter {when:%m/%Y}: Neuerscheinungen"
        paragraphs = rng.sample(NEWSLETTER_LINES, 3)
    elif other["email"] == "ci@builds.example":
        subject = f"[ci] main #{rng.randrange(100, 4000)}"
        paragraphs = [l.format(n=rng.randrange(100, 4000)) for l in rng.sample(BUILD_LINES, 2)]
    elif rng.random() < 0.3 and not force.get("subject") and folder_kind != "memo":
        prefix = {"de": "AW: ", "fr": "RE : ", "it": "R: "}.get(lang, "Re: ")
        subject = prefix + subject
        in_reply_to = message_id(recipient["email"].split("@")[1])
        earlier = when - timedelta(hours=rng.randint(1, 72))
        paragraphs += quoted(lang, recipient, earlier, body_paragraphs(lang, recipient, sender, 1))

    cc = []
    if rng.random() < 0.25:
        cc = rng.sample([p for p in counterparts(account, outgoing=True) if p is not other],
                        rng.randint(1, 2))

    kind = force.get("kind")
    if kind is None:
        r = rng.random()
        kind = "mixed" if r < 0.26 else "alternative" if r < 0.55 else "plain"
    if folder_kind == "draft" and not force.get("kind"):
        kind = "plain"
    attachments = force.get("attachments")
    if isinstance(attachments, str):
        attachments = forced_attachments(attachments, when, account)
    if kind == "mixed" and attachments is None:
        attachments = [random_attachment(when) for _ in range(1 if rng.random() < 0.75 else 2)]

    m = dict(
        date=when, subject=subject, **{"from": sender}, to=[recipient], cc=cc,
        subject_mode=pick_subject_mode(subject, force.get("subject_mode")),
        message_id=message_id(sender["email"].split("@")[1]),
        in_reply_to=in_reply_to,
        mailer=rng.choice(MAILERS),
    )
    if incoming and rng.random() < 0.9:
        m["received"] = received_header(recipient, sender, when, rng.randint(2, 400))

    # Flags
    if folder_kind == "draft":
        m["status"] = "RO"
        m["x_status"] = "T"
    elif folder_kind in ("sent", "memo"):
        m["status"] = "RO"
    else:
        if rng.random() < 0.75:
            m["status"] = "RO"
        elif rng.random() < 0.5:
            m["status"] = "O"
        xs = ""
        if rng.random() < 0.18:
            xs += "A"
        if rng.random() < 0.12:
            xs += "F"
        if xs:
            m["x_status"] = xs
    if folder_kind != "draft" and rng.random() < 0.08:
        m["x_keywords"] = rng.choice(["$Forwarded, project-x", "project-x"])
    m.update({k: v for k, v in force.items()
              if k in ("x_keywords", "x_status", "status", "duplicate")})

    m["body"] = render_body(kind, paragraphs, attachments)
    return m


def nested_rfc822_attachment(account):
    """A forwarded message attached whole: message/rfc822 with its own attachment."""
    lucia = EXTERNALS[6]
    when = local_time(datetime(2023, 3, 14, 9, 12, 44), lucia["tz"])
    inner_body = mixed_part(
        text_plain_part(wrap(["Hola José:", "", "Te envío el contrato firmado por ambas partes.",
                              "", "Un saludo,", "Lucía Fernández"])) + "\n",
        [attachment_part("contrato firmado.pdf", "application/pdf",
                         attachment_data(b"%PDF-1.6\n", 6144))])
    inner = dict(date=when, **{"from": lucia}, to=[account], cc=[], subject="Contrato firmado",
                 subject_mode="ascii", message_id="<20230314091244.5f2a@fernandez-asesores.example>",
                 mailer="X-Mailer: Microsoft Outlook 16.0", body=inner_body)
    return ("Content-Type: message/rfc822;\n name=\"Contrato firmado.eml\"\n"
            "Content-Disposition: attachment;\n filename=\"Contrato firmado.eml\"\n\n"
            + build_message(inner) + "\n")


# ---------------------------------------------------------------------------
# Folder plans
# ---------------------------------------------------------------------------

# (account, folder path, kind, count, (first year, last year))
FOLDER_PLANS = [
    ("zoe.mueller@acme.example", "INBOX", "inbox", 24, (2009, 2025)),
    ("zoe.mueller@acme.example", "Sent", "sent", 8, (2010, 2025)),
    ("zoe.mueller@acme.example", "Drafts", "draft", 2, (2024, 2025)),
    ("zoe.mueller@acme.example", "Trash", "trash", 3, (2020, 2025)),
    ("zoe.mueller@acme.example", "Projekte/Überblick 2024", "other", 5, (2024, 2024)),
    ("zoe.mueller@acme.example", "Team.Notes 2.0", "other", 3, (2018, 2022)),
    ("jose.nunez@acme.example", "INBOX", "inbox", 13, (2012, 2025)),
    ("jose.nunez@acme.example", "Sent", "sent", 6, (2012, 2025)),
    ("jose.nunez@acme.example", "Drafts", "draft", 1, (2025, 2025)),
    ("jose.nunez@acme.example", "Trash", "trash", 2, (2022, 2025)),
    ("jose.nunez@acme.example", "Clientes/Año 2023", "other", 2, (2023, 2023)),
    ("jose.nunez@acme.example", "Clientes/Año 2023/Facturación", "other", 5, (2023, 2023)),
    ("ijsbrand.devries@acme.example", "INBOX", "inbox", 6, (2016, 2025)),
    ("ijsbrand.devries@acme.example", "Sent", "sent", 3, (2016, 2025)),
    ("lukasz.zolw@acme.example", "INBOX", "inbox", 9, (2005, 2025)),
    ("lukasz.zolw@acme.example", "Sent", "sent", 4, (2006, 2025)),
    ("lukasz.zolw@acme.example", "Trash", "trash", 2, (2019, 2025)),
    ("chiara.rossi@acme.example", "INBOX", "inbox", 9, (2011, 2025)),
    ("chiara.rossi@acme.example", "Sent", "sent", 4, (2011, 2025)),
    ("chiara.rossi@acme.example", "Drafts", "draft", 1, (2025, 2025)),
    ("chiara.rossi@acme.example", "Trash", "trash", 1, (2024, 2025)),
    ("chiara.rossi@acme.example", "Archivio/Fatture", "other", 5, (2015, 2022)),
    ("sven.astrom@acme.example", "INBOX", "inbox", 5, (2021, 2025)),
    ("hiroshi.tanaka@globex.example", "INBOX", "inbox", 12, (2008, 2025)),
    ("hiroshi.tanaka@globex.example", "Sent", "sent", 5, (2008, 2025)),
    ("hiroshi.tanaka@globex.example", "Drafts", "draft", 1, (2025, 2025)),
    ("hiroshi.tanaka@globex.example", "Trash", "trash", 2, (2023, 2025)),
    ("hiroshi.tanaka@globex.example", "日本語/メモ", "memo", 5, (2014, 2024)),
    ("amelie.dubois@globex.example", "INBOX", "inbox", 10, (2013, 2025)),
    ("amelie.dubois@globex.example", "Sent", "sent", 5, (2013, 2025)),
    ("amelie.dubois@globex.example", "Drafts", "draft", 1, (2025, 2025)),
    ("amelie.dubois@globex.example", "Trash", "trash", 2, (2021, 2025)),
    ("olumide.adeyemi@globex.example", "INBOX", "inbox", 4, (2022, 2025)),
    ("olumide.adeyemi@globex.example", "Sent", "sent", 2, (2022, 2025)),
    ("sara.lindqvist@globex.example", "INBOX", "inbox", 7, (2017, 2025)),
    ("sara.lindqvist@globex.example", "Sent", "sent", 3, (2017, 2025)),
    ("sara.lindqvist@globex.example", "Drafts", "draft", 1, (2025, 2025)),
    ("sara.lindqvist@globex.example", "Trash", "trash", 1, (2020, 2025)),
]

MBOX_ACCOUNT = "zoe.mueller@acme.example"
MBOX_FOLDER = "Archives/Altes Postfach 2003-2008"
EMPTY_MBOX_FOLDER = "Empty Archive"

# Messages that must exist whatever the random draw: (account, folder, index) -> force.
FORCED = {
    ("zoe.mueller@acme.example", "INBOX", 0): dict(
        other=EXTERNALS[0], kind="mixed", subject="Überweisung für Rechnung 2024-117",
        lang="de", subject_mode="Q",
        attachments="UEBERWEISUNG"),
    ("zoe.mueller@acme.example", "INBOX", 1): dict(
        other=EXTERNALS[3], kind="mixed", subject="Annual report 2019", lang="en",
        attachments="REPORT2019", x_keywords="$Forwarded, project-x", x_status="F"),
    ("zoe.mueller@acme.example", "INBOX", 2): dict(subject="Größere Änderung am Vertrag",
                                                   lang="de", subject_mode="raw"),
    ("zoe.mueller@acme.example", "Projekte/Überblick 2024", 0): dict(
        x_keywords="$Forwarded, project-x", subject="Projekt X – Überblick Q2", lang="de",
        subject_mode="B"),
    ("jose.nunez@acme.example", "INBOX", 0): dict(
        other=ACCOUNT_BY_EMAIL["chiara.rossi@acme.example"], kind="mixed", subject="Fwd: Contrato firmado", lang="es",
        attachments="RFC822", x_keywords="$Forwarded, project-x",
        paragraphs=["Hola José:", "",
                    "te reenvío el contrato firmado que nos mandó Lucía; el original va adjunto.",
                    "", "Un saludo,", "Chiara Rossi"]),
    ("jose.nunez@acme.example", "INBOX", 1): dict(subject="¿Comemos el viernes?", lang="es",
                                                  subject_mode="raw"),
    # Filed again under Clientes/Año 2023 as a second copy with the same Message-ID.
    ("jose.nunez@acme.example", "INBOX", 2): dict(
        other=EXTERNALS[6], subject="Factura 2023-118 – Fernández Asesores", lang="es",
        subject_mode="Q", years=(2023, 2023), duplicate=True),
    ("hiroshi.tanaka@globex.example", "INBOX", 0): dict(subject="見積書の送付", lang="ja",
                                                        other=EXTERNALS[5], subject_mode="B"),
    ("lukasz.zolw@acme.example", "INBOX", 0): dict(subject="Zażółć gęślą jaźń – test",
                                                   lang="pl", subject_mode="raw"),
    ("chiara.rossi@acme.example", "Archivio/Fatture", 0): dict(
        kind="mixed", subject="Fattura n. 0042 – Studio Bianchi", other=EXTERNALS[0], lang="it",
        subject_mode="Q", attachments="FATTURA"),
}


def forced_attachments(tag, when, account):
    if tag == "UEBERWEISUNG":
        return [random_attachment(when, ATTACHMENT_KINDS[1])]
    if tag == "REPORT2019":
        return [attachment_part("report-2019.pdf", "application/pdf",
                                attachment_data(ATTACHMENT_KINDS[0][2], 48213))]
    if tag == "RFC822":
        return [nested_rfc822_attachment(account)]
    if tag == "FATTURA":
        return [attachment_part("Fattura_0042.pdf", "application/pdf",
                                attachment_data(ATTACHMENT_KINDS[0][2], 21877))]
    raise ValueError(tag)


# ---------------------------------------------------------------------------
# mbox (mboxrd)
# ---------------------------------------------------------------------------

# Bodies with lines that mboxrd must escape, and who wrote them.
MBOX_FROM_SENDERS = ["ijsbrand.devries@acme.example", "erik@nordlys.example",
                     "m.bianchi@studio-bianchi.example"]
MBOX_FROM_BODIES = [
    ["Hallo Zoë,", "", "anbei das Protokoll vom Montag.", "",
     "From the minutes of the board meeting:", "- budget approved", "- new office in Milano",
     "", "Gruß, Ĳsbrand"],
    ["Hi,", "", "From now on the weekly report goes to the whole team.",
     ">From the old list nobody will receive it any more.", "", "Thanks, Erik"],
    ["Zoë,", "", "quoting your mail:", "> From what I understand the server move is done.",
     "From my side it is done too.", "", "Marco"],
]


def mboxrd_escape(line):
    stripped = line.lstrip(">")
    return ">" + line if stripped.startswith("From ") else line


def make_mbox(account):
    msgs = []
    zoe = account
    for i in range(15):
        other = rng.choice([p for p in counterparts(zoe) if p["email"] not in
                            ("ci@builds.example",)])
        force = {"other": other, "kind": "plain" if i % 5 else "alternative"}
        if i in (2, 6, 11):
            sender = MBOX_FROM_SENDERS[(2, 6, 11).index(i)]
            force["other"] = ACCOUNT_BY_EMAIL.get(sender) or next(
                p for p in EXTERNALS if p["email"] == sender)
            force["kind"] = "plain"
            force["subject"] = ["Protokoll vom Montag", "Weekly report", "Re: Server move"][
                (2, 6, 11).index(i)]
        m = make_message(zoe, "inbox", (2003, 2008), force)
        if i in (2, 6, 11):
            lines = MBOX_FROM_BODIES[(2, 6, 11).index(i)]
            m["body"] = ("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
                         + "\n".join(lines) + "\n")
        msgs.append(m)
    msgs.sort(key=lambda m: m["date"].astimezone(timezone.utc))
    out = []
    for i, m in enumerate(msgs):
        utc = m["date"].astimezone(timezone.utc).replace(tzinfo=None)
        text = build_message(m)
        lines = [mboxrd_escape(l) for l in text.rstrip("\n").split("\n")]
        ending = "\r\n" if i == 7 else "\n"  # one message kept with its CRLF line ends
        out.append(f"From {m['from']['email']} {asctime_utc(utc)}\n" + ending.join(lines) + ending + "\n")
    return "".join(out).encode("utf-8"), len(msgs)


# ---------------------------------------------------------------------------
# Calendars and contacts
# ---------------------------------------------------------------------------

VTIMEZONE_ROME = [
    "BEGIN:VTIMEZONE", "TZID:Europe/Rome",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
    "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
    "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "END:VTIMEZONE",
]

CALENDARS = {
    "zoe.mueller@acme.example": [
        dict(kind="rome", uid="a1f0c7e2-0001@acme.example", summary="Kundentermin Mailand",
             start="20250312T100000", end="20250312T113000", location="Via Dante 7, Milano",
             description="Vorstellung des Angebots; Unterlagen liegen im Ordner Projekte/Überblick 2024. "
                         "Bitte Laptop, Adapter und Visitenkarten mitbringen, danke!"),
        dict(kind="allday", uid="a1f0c7e2-0002@acme.example", summary="Betriebsausflug",
             start="20250606", end="20250607"),
        dict(kind="weekly", uid="a1f0c7e2-0003@acme.example", summary="Team-Standup",
             start="20250106T091500", end="20250106T093000", exception="20250120T091500",
             moved=("20250121T091500", "20250121T093000"), moved_note="verschoben auf Dienstag"),
        dict(kind="utc", uid="a1f0c7e2-0004@acme.example", summary="Migration auf Carbonio",
             start="20250415T180000Z", end="20250415T220000Z"),
    ],
    "chiara.rossi@acme.example": [
        dict(kind="rome", uid="c4e1-2025-0001@acme.example", summary="Riunione con lo Studio Bianchi",
             start="20250203T143000", end="20250203T153000", location="Sala Garibaldi, 2° piano",
             description="Verifica delle fatture 2024, preventivo per il 2025."),
        dict(kind="allday", uid="c4e1-2025-0002@acme.example", summary="Ferragosto – ufficio chiuso",
             start="20250815", end="20250816"),
        dict(kind="weekly", uid="c4e1-2025-0003@acme.example", summary="Corso di tedesco",
             start="20250108T180000", end="20250108T193000", exception="20250205T180000",
             moved=("20250206T180000", "20250206T193000"), moved_note="spostato a giovedì"),
    ],
    "amelie.dubois@globex.example": [
        dict(kind="rome", uid="0b8d7c52-amelie-1@globex.example", summary="Salon professionnel à Rome",
             start="20250520T090000", end="20250520T180000", location="Fiera di Roma",
             description="Stand 14B, avec Hiroshi et Sara."),
        dict(kind="allday", uid="0b8d7c52-amelie-2@globex.example", summary="Congés – pont de l'Ascension",
             start="20250529", end="20250531"),
        dict(kind="weekly", uid="0b8d7c52-amelie-3@globex.example", summary="Point hebdo ventes",
             start="20250103T100000", end="20250103T104500", exception="20250117T100000",
             moved=("20250117T113000", "20250117T121500"), moved_note="décalé à 11h30"),
        dict(kind="utc", uid="0b8d7c52-amelie-4@globex.example", summary="Call with Tokyo office",
             start="20250304T080000Z", end="20250304T090000Z"),
        dict(kind="allday", uid="0b8d7c52-amelie-5@globex.example", summary="Anniversaire de Sara",
             start="20250911", end="20250912"),
    ],
}


def ics_text(value):
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def make_ics(address, events):
    owner = ACCOUNT_BY_EMAIL[address]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0",
             "PRODID:-//Example Mail System//Calendar Export 4.2//EN", "CALSCALE:GREGORIAN"]
    if any(e["kind"] in ("rome", "weekly") for e in events):
        lines += VTIMEZONE_ROME
    for e in events:
        common = [f"UID:{e['uid']}", "DTSTAMP:20250101T120000Z",
                  f"SUMMARY:{ics_text(e['summary'])}",
                  f'ORGANIZER;CN="{owner["given"]} {owner["surname"]}":mailto:{address}']
        if e["kind"] == "allday":
            lines += ["BEGIN:VEVENT", *common, f"DTSTART;VALUE=DATE:{e['start']}",
                      f"DTEND;VALUE=DATE:{e['end']}", "TRANSP:TRANSPARENT", "END:VEVENT"]
            continue
        if e["kind"] == "utc":
            lines += ["BEGIN:VEVENT", *common, f"DTSTART:{e['start']}", f"DTEND:{e['end']}",
                      "ATTENDEE;CN=Priya Raman;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:"
                      "mailto:priya.raman@initech.example",
                      "END:VEVENT"]
            continue
        lines += ["BEGIN:VEVENT", *common,
                  f"DTSTART;TZID=Europe/Rome:{e['start']}", f"DTEND;TZID=Europe/Rome:{e['end']}"]
        if e.get("location"):
            lines.append(f"LOCATION:{ics_text(e['location'])}")
        if e.get("description"):
            lines.append(f"DESCRIPTION:{ics_text(e['description'])}")
        if e["kind"] == "weekly":
            day = datetime.strptime(e["start"], "%Y%m%dT%H%M%S").weekday()
            lines.append(f"RRULE:FREQ=WEEKLY;BYDAY={['MO','TU','WE','TH','FR','SA','SU'][day]};COUNT=20")
        lines.append("END:VEVENT")
        if e["kind"] == "weekly":
            lines += ["BEGIN:VEVENT", f"UID:{e['uid']}", "DTSTAMP:20250101T120000Z",
                      f"RECURRENCE-ID;TZID=Europe/Rome:{e['exception']}",
                      f"SUMMARY:{ics_text(e['summary'] + ' (' + e['moved_note'] + ')')}",
                      f"DTSTART;TZID=Europe/Rome:{e['moved'][0]}",
                      f"DTEND;TZID=Europe/Rome:{e['moved'][1]}", "SEQUENCE:1", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold_content_line(l) for l in lines) + "\r\n").encode("utf-8")


CONTACTS = {
    "jose.nunez@acme.example": [
        dict(uid="5d3c1a9e-0001", given="Lucía", family="Fernández", org="Fernández Asesores",
             email="lucia@fernandez-asesores.example", tel="+34 954 000 111"),
        dict(uid="5d3c1a9e-0002", given="Marco", family="Bianchi", org="Studio Bianchi",
             email="m.bianchi@studio-bianchi.example", tel="+39 02 0000 4242"),
        dict(uid="5d3c1a9e-0003", given="Priya", family="Raman", org="Initech",
             email="priya.raman@initech.example", tel="+91 80 0000 7777",
             note="Met at the 2023 Barcelona trade fair; interested in the enterprise plan, "
                  "call back after the budget is approved in Q3, prefers e-mail over phone calls."),
        dict(uid="5d3c1a9e-0004", given="Ĳsbrand", family="de Vries", org="Acme",
             email="ijsbrand.devries@acme.example", tel="+31 20 000 1234"),
    ],
    "hiroshi.tanaka@globex.example": [
        dict(uid="hk-7781-01", given="花子", family="佐藤", fn="佐藤 花子", org="株式会社カイシャ",
             email="hanako.sato@kaisha.example", tel="+81 3-0000-1111",
             note="大阪支社の営業担当。毎月第二水曜日に定例会議があります。見積書は必ずPDFで送付すること。"),
        dict(uid="hk-7781-02", given="Amélie", family="Dubois", org="Globex",
             email="amelie.dubois@globex.example", tel="+33 1 00 00 00 42"),
        dict(uid="hk-7781-03", given="Dan", family="O'Kafor", org="Umbrella",
             email="dan.okafor@umbrella.example", tel="+1 212 555 0100"),
    ],
    "sara.lindqvist@globex.example": [
        dict(uid="sl-0001", given="Erik", family="Sørensen", org="Nordlys AS",
             email="erik@nordlys.example", tel="+47 22 00 00 00"),
        dict(uid="sl-0002", given="Claire", family="Whelan", org="St. John's Consulting",
             email="claire@stjohns-consulting.example", tel="+1 709 555 0199"),
        dict(uid="sl-0003", given="Rafael", family="Conceição", org="São Paulo Tech, Ltda.",
             email="rafael@saopaulo-tech.example", tel="+55 11 0000-0000"),
        dict(uid="sl-0004", given="Olúmídé", family="Adéyẹmí", org="Globex",
             email="olumide.adeyemi@globex.example", tel="+234 1 000 0000"),
        dict(uid="sl-0005", given="Hiroshi", family="Tanaka", org="Globex",
             email="hiroshi.tanaka@globex.example", tel="+81 3-0000-2222"),
    ],
}


def vcard_text(value):
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def make_vcf(cards):
    lines = []
    for c in cards:
        fn = c.get("fn") or f"{c['given']} {c['family']}"
        lines += ["BEGIN:VCARD", "VERSION:3.0",
                  f"N:{vcard_text(c['family'])};{vcard_text(c['given'])};;;",
                  f"FN:{vcard_text(fn)}", f"ORG:{vcard_text(c['org'])}",
                  f"EMAIL;TYPE=INTERNET,WORK:{c['email']}", f"TEL;TYPE=WORK,VOICE:{c['tel']}",
                  f"UID:{c['uid']}"]
        if c.get("note"):
            lines.append(f"NOTE:{vcard_text(c['note'])}")
        lines.append("END:VCARD")
    return ("\r\n".join(fold_content_line(l) for l in lines) + "\r\n").encode("utf-8")


# ---------------------------------------------------------------------------
# CSV files
# ---------------------------------------------------------------------------


def ssha(secret, address):
    salt = hashlib.sha1(f"quickstart-salt:{address}".encode("utf-8")).digest()[:8]
    digest = hashlib.sha1(secret.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def csv_bytes(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def accounts_csv():
    rows = [["email", "givenName", "surname", "displayName", "password", "password_hash",
             "must_change", "recoveryEmail", "aliases", "cos", "source_user"]]
    for a in ACCOUNTS:
        pw = a["password"]
        clear = pw[1] if pw[0] == "clear" else ""
        hashed = ssha(pw[1], a["email"]) if pw[0] == "ssha" else ""
        must = "true" if pw[0] == "clear" and pw[2] else "false"
        rows.append([a["email"], a["given"], a["surname"], a["display"], clear, hashed, must,
                     a["recovery"], ";".join(a["aliases"]), a["cos"], a["source_user"]])
    return csv_bytes(rows)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def main():
    out = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUTPUT
    if out.exists():
        # Guard against wiping an unrelated directory given by mistake.
        if any(out.iterdir()) and not (out / "accounts.csv").exists():
            sys.exit(f"refusing to delete {out}: not empty and not an export directory")
        shutil.rmtree(out)
    out.mkdir(parents=True)

    write(out / "domains.csv", csv_bytes([["name", "description"], *DOMAINS]))
    write(out / "classes_of_service.csv",
          csv_bytes([["name", "zimbraMailQuota", "zimbraFeatureCalendarEnabled"],
                     *CLASSES_OF_SERVICE]))
    write(out / "accounts.csv", accounts_csv())
    write(out / "distribution_lists.csv",
          csv_bytes([[addr, desc, name, *members] for addr, desc, name, members in DISTRIBUTION_LISTS]))

    counts = {}
    duplicate_source = None
    for address, folder, kind, count, years in FOLDER_PLANS:
        account = ACCOUNT_BY_EMAIL[address]
        msgs = []
        for i in range(count):
            force = dict(FORCED.get((address, folder, i), {}))
            m = make_message(account, kind, years, force)
            msgs.append(m)
        # A folder lists its messages in arrival order.
        msgs.sort(key=lambda m: m["date"].astimezone(timezone.utc))
        duplicate_source = next((m for m in msgs if m.get("duplicate")), duplicate_source)
        if (address, folder) == ("jose.nunez@acme.example", "Clientes/Año 2023"):
            # The same mail arrived twice (direct and via a list): one Message-ID, two copies.
            copy = dict(duplicate_source)
            copy["received"] = received_header(account, copy["from"], copy["date"], 9313)
            copy["status"] = "RO"
            msgs.append(copy)
            msgs.sort(key=lambda m: m["date"].astimezone(timezone.utc))
        if (address, folder) == ("lukasz.zolw@acme.example", "INBOX"):
            # An old mail from a system that set no Message-ID.
            msgs[0]["message_id"] = None
        for n, m in enumerate(msgs, 1):
            text = build_message(m).replace("\n", "\r\n")
            write(out / "mail" / address / folder / f"{n:04d}.eml", text.encode("utf-8"))
        counts[(address, folder)] = len(msgs)

    mbox_data, mbox_count = make_mbox(ACCOUNT_BY_EMAIL[MBOX_ACCOUNT])
    write(out / "mail" / MBOX_ACCOUNT / f"{MBOX_FOLDER}.mbox", mbox_data)
    counts[(MBOX_ACCOUNT, MBOX_FOLDER + ".mbox")] = mbox_count
    write(out / "mail" / MBOX_ACCOUNT / f"{EMPTY_MBOX_FOLDER}.mbox", b"")
    counts[(MBOX_ACCOUNT, EMPTY_MBOX_FOLDER + ".mbox")] = 0

    for address, events in CALENDARS.items():
        write(out / "calendar" / f"{address}.ics", make_ics(address, events))
    for address, cards in CONTACTS.items():
        write(out / "contacts" / f"{address}.vcf", make_vcf(cards))

    total = sum(counts.values())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out}: {total} messages, {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()

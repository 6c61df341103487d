"""Diagnostics: the one registry of every code textbill can report.

A code is stable: editors, scripts and docs/errors.md refer to it.  Each code is
declared here once, with its severity (E… errors, W… warnings), a short title
and, when one fits every occurrence, the help a user usually needs.  The
diagnostic constructors in textbill.core.diagnostics refuse an undeclared code,
and tests/test_error_catalogue.py holds every declared code to a case in
tests/errors and an entry in docs/errors.md.

Ranges: E0xx reading and syntax, E1xx the ledger's meaning (references,
duplicates, SOWs, numbering, money, locks, configuration, imports), E2xx bank
details, e-invoices and reminder e-mails, E3xx teams and agreements, E9xx internal errors.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    severity: str
    title: str
    help: str | None = None  # the usual fix, when one fits every occurrence of the code


def _e(code: str, title: str, help: str | None = None) -> Code:
    return Code(code, ERROR, title, help)


def _w(code: str, title: str, help: str | None = None) -> Code:
    return Code(code, WARNING, title, help)


CODES: tuple[Code, ...] = (
    # reading files and syntax
    _e("E001", "syntax error"),
    _e("E002", "unknown directive"),
    _e("E003", "unknown attribute"),
    _e("E004", "indented line outside a directive",
       "attributes are indented below a header line in column 0; remove the indentation or move the line "
       "under its directive"),
    _e("E005", "unterminated string", 'close the string with a " on the same line'),
    _e("E006", "file cannot be read as UTF-8 text"),
    _e("E007", "no ledger files", "create one, for example with 'textbill init', or point -f at a ledger"),
    _e("E008", "invalid textbill.yaml"),
    _e("E009", "line too long", "a directive fits on one line; split long text over attributes"),
    _e("E010", "impossible date", "write a real calendar date as YYYY-MM-DD"),
    _e("E011", "impossible time or reversed range"),
    _e("E012", "not a number or too many digits"),
    _e("E013", "unknown currency code"),
    _e("E014", "value out of range"),
    _e("E015", "attribute given twice", "keep one of them"),
    _e("E016", "second pricing line in a SOW"),
    _e("E017", "not a whole number"),
    _e("E018", "attribute not indented"),
    _e("E030", "file outside the ledger or not a regular file",
       "a ledger is its folder and nothing else: replace a symlink by the file itself, remove a device or FIFO"),
    _w("W015", "minutes of an hour or more"),
    # the company
    _e("E020", "no company"),
    _e("E021", "second company"),
    # references
    _e("E101", "unknown client"),
    _e("E102", "unknown SOW, or a SOW of another client"),
    _e("E103", "unknown invoice"),
    _e("E104", "unknown reminder policy"),
    _e("E105", "unknown milestone"),
    _w("W106", "unknown reminder step"),
    # duplicates
    _e("E110", "duplicate client"),
    _e("E111", "duplicate SOW"),
    _e("E112", "duplicate document number"),
    _e("E113", "duplicate reminder policy"),
    _e("E114", "milestone done twice"),
    _e("E115", "milestone listed twice"),
    # SOWs
    _e("E120", "entry outside the SOW's period"),
    _e("E121", "time entry on a SOW not priced by the hour"),
    _e("E122", "milestones do not add up to 100%"),
    _e("E123", "milestones on an hourly SOW"),
    _e("E124", "SOW without pricing"),
    _e("E125", "'done' on a SOW not priced by milestones"),
    _w("W127", "retainer without a period"),
    _w("W130", "overlapping clock ranges"),
    # the exported books (textbill export)
    _e("E131", "two clients share an account of the exported books", "rename one of the two client ids"),
    _e("E132", "two taxes share an account of the exported books"),
    # document numbering
    _e("E140", "document number breaks its pattern"),
    _e("E141", "gap in the numbering"),
    _e("E142", "document dated before the previous one"),
    _e("E143", "invalid numbering pattern"),
    # money
    _e("E150", "currency without an exchange rate"),
    _e("E151", "payment for another client's invoice"),
    _e("E152", "credit note larger than its invoice"),
    _e("E153", "credit note before its invoice"),
    _w("W152", "tax not shown in the company's currency"),
    _w("W154", "payment plan with nothing outstanding"),
    _e("E156", "invoice total below zero"),
    _e("E160", "entry billed on two invoices"),
    _w("W161", "unbilled entry dated before the latest invoice"),
    _w("W162", "SOW at 80% of its cap"),
    _e("E163", "SOW cap exceeded"),
    _w("W164", "overpayment"),
    # textbill.lock
    _e("E170", "locked document changed",
       "issued documents are immutable: undo the edit, and correct the document with a credit note"),
    _e("E171", "locked document deleted",
       "an issued document cannot be deleted: restore it, and cancel it with a credit note if it was wrong"),
    _w("W172", "document issued but not locked",
       "run 'textbill lock' (and commit textbill.lock) so any later change to it is caught"),
    _e("E173", "textbill.lock cannot be read", "restore textbill.lock from git instead of editing it"),
    _e("E174", "merge conflict in textbill.lock",
       "keep the documents of one branch, renumber the other branch's, then run 'textbill lock' again"),
    # files and themes named by the ledger
    _e("E180", "logo outside the ledger",
       "put the image inside the ledger folder and give its relative path, e.g. assets/logo.png"),
    _w("W181", "logo file missing", "check the path; it is relative to the ledger root"),
    _e("E182", "unknown theme", "use 'default', 'modern', or the path of a folder inside the ledger"),
    _e("E183", "theme file outside the ledger or not a regular file",
       "a theme is files inside the ledger: replace the link by the file itself, remove a device or FIFO"),
    _e("E184", "unsafe output folder",
       "the output folder is a plain folder inside the ledger, like 'build', holding only what textbill writes"),
    # importing time entries
    _e("E190", "import file cannot be read"),
    _w("W191", "session still clocked in", "import again once it has a clock-out line"),
    _e("E192", "imported account or project names no SOW"),
    # bank details
    _e("E201", "invalid IBAN", "copy the IBAN from a bank statement; spaces between the groups are fine"),
    _e("E202", "invalid BIC", "a BIC has 8 or 11 letters and digits: bank, country, location (and branch)"),
    _w("W203", "BIC and IBAN of different countries",
       "check that the BIC is the one of the bank that holds this IBAN"),
    # bank reconciliation: `import bank`, client IBANs, RF references
    _w("W260", "one IBAN given for two clients", "keep the account on the client that pays from it"),
    _e("E261", "bank statement cannot be read"),
    _e("E262", "bank statement of another account",
       "import the statement of the account in the company's bank line, or correct that IBAN"),
    _e("E263", "bank-csv settings do not fit the CSV file"),
    _w("W264", "invoice number too long for an RF reference",
       "an RF reference holds at most 21 letters and digits: shorten the numbering pattern"),
    # e-invoices (section 8): what each format textbill.yaml asks for needs (facturx, ubl, ksef)
    _e("E220", "unknown Peppol participant id scheme",
       "write SCHEME:ID with a code of Peppol's Electronic Address Scheme list, e.g. peppol 0088:5790000435975"),
    _e("E221", "company without a tax-id for e-invoices with VAT"),
    _e("E222", "company without a country for e-invoices"),
    _e("E223", "client without a country for e-invoices"),
    _e("E224", "reverse-charge client without a VAT number"),
    _e("E225", "tax exemption without a reason"),
    _w("W226", "company without a peppol id: UBL is not Peppol BIS"),
    _w("W227", "client without a peppol id: UBL is not Peppol BIS"),
    _w("W228", "invoice without a buyer reference or PO: UBL is not Peppol BIS"),
    _w("W229", "German domestic invoice lacks what Peppol's German rules need"),
    _e("E230", "company without a Polish NIP for KSeF"),
    _e("E231", "VAT rate that is not Polish, for KSeF"),
    _e("E232", "not a KSeF number"),
    _e("E233", "company currency is not PLN, for KSeF"),
    _e("E234", "foreign-currency invoice without an fx rate to PLN, for KSeF"),
    # reminder e-mails
    _e("E250", "no e-mail address for a reminder"),
    _e("E251", "unusable e-mail address", "write one plain address, like: email ap@example.com"),
    _e("E252", "unsafe text in an e-mail header"),
    # teams and agreements (people, role rates, sent and accepted SOWs)
    _e("E300", "unknown person"),
    _e("E301", "duplicate person"),
    _e("E302", "role rate in another currency than its SOW's",
       "write the rate in the SOW's currency, or leave the currency out"),
    _e("E303", "role rate on a SOW not priced by the hour"),
    _e("E304", "rate for the same role given twice", "keep one of the two lines"),
    _e("E305", "SOW accepted before it was sent"),
    _e("E306", "SOW accepted twice", "keep the first acceptance; amend the terms with a new SOW"),
    _e("E307", "accepted SOW's terms changed",
       "an accepted SOW is binding: undo the edit, and amend it with a new SOW the client accepts"),
    _e("E308", "unknown role (a rate naming a misspelt role)"),
    _e("E309", "imported user names no person",
       "map the tracker's user in textbill.yaml: people: {\"jane@example.com\": jane}"),
    _w("W300", "rate for a role no person holds"),
    _w("W301", "invoice bills a SOW not yet accepted"),
    _w("W302", "accepted SOW not yet locked",
       "run 'textbill lock' (and commit textbill.lock) so any later change to its terms is caught"),
    # internal
    _e("E900", "internal error"),
)

BY_CODE: MappingProxyType[str, Code] = MappingProxyType({c.code: c for c in CODES})
ERROR_CODES: frozenset[str] = frozenset(c.code for c in CODES if c.severity == ERROR)
WARNING_CODES: frozenset[str] = frozenset(c.code for c in CODES if c.severity == WARNING)


def describe(code: str) -> Code:
    """The declared code; a KeyError naming the registry for an undeclared one."""
    try:
        return BY_CODE[code]
    except KeyError:
        raise KeyError(f"diagnostic code {code!r} is not declared in textbill/core/codes.py") from None

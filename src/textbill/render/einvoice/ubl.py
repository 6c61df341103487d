"""EN 16931 in OASIS UBL 2.1 syntax, as Peppol BIS Billing 3.0 wants it (Invoice and CreditNote).

Element order follows the UBL 2.1 XSDs; business-term numbers in the comments
map each element back to einvoice_model.
"""
from __future__ import annotations

from lxml import etree

from textbill.reports.einvoice import (
    AllowanceCharge,
    Category,
    EInvoice,
    InvoiceLine,
    Party,
    amount_text,
    decimal_text,
    price_text,
)

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"

CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"  # BT-24
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"  # BT-23
EN16931 = "urn:cen.eu:en16931:2017"  # BT-24 of a document that is not (yet) Peppol BIS


def _sub(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    prefix, name = tag.split(":")
    el = etree.SubElement(parent, f"{{{CBC if prefix == 'cbc' else CAC}}}{name}", attrs)
    if text is not None:
        el.text = text
    return el


def ubl(e: EInvoice) -> bytes:
    credit = e.is_credit
    ns = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(f"{{{ns}}}{'CreditNote' if credit else 'Invoice'}",
                         nsmap={None: ns, "cac": CAC, "cbc": CBC})
    cur = e.currency

    def money(parent, tag: str, value, currency: str = cur):
        return _sub(parent, tag, amount_text(value, currency), currencyID=currency)

    # Peppol BIS only when the document passes its rules (both Peppol ids, BT-10 or BT-13)
    _sub(root, "cbc:CustomizationID", CUSTOMIZATION if e.peppol else EN16931)
    if e.peppol:
        _sub(root, "cbc:ProfileID", PROFILE)
    _sub(root, "cbc:ID", e.number)  # BT-1
    _sub(root, "cbc:IssueDate", e.issue_date.isoformat())  # BT-2
    if e.due_date and not credit:
        _sub(root, "cbc:DueDate", e.due_date.isoformat())  # BT-9
    _sub(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", e.type_code)  # BT-3
    for note in e.notes:
        _sub(root, "cbc:Note", note)  # BT-22
    _sub(root, "cbc:DocumentCurrencyCode", cur)  # BT-5
    if e.tax_currency:
        _sub(root, "cbc:TaxCurrencyCode", e.tax_currency)  # BT-6
    if e.buyer_reference:
        _sub(root, "cbc:BuyerReference", e.buyer_reference)  # BT-10
    if e.period:
        start, end = e.period
        period = _sub(root, "cac:InvoicePeriod")  # BG-14
        if start:
            _sub(period, "cbc:StartDate", start.isoformat())
        _sub(period, "cbc:EndDate", end.isoformat())
    if e.order_reference:
        _sub(_sub(root, "cac:OrderReference"), "cbc:ID", e.order_reference)  # BT-13
    if e.preceding:
        number, day = e.preceding
        ref = _sub(_sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")  # BG-3
        _sub(ref, "cbc:ID", number)  # BT-25
        _sub(ref, "cbc:IssueDate", day.isoformat())  # BT-26

    _party(_sub(root, "cac:AccountingSupplierParty"), e.seller, seller=True)
    _party(_sub(root, "cac:AccountingCustomerParty"), e.buyer, seller=False)

    if e.delivery_date:
        _sub(_sub(root, "cac:Delivery"), "cbc:ActualDeliveryDate", e.delivery_date.isoformat())  # BT-72
    if e.payment:
        p = e.payment
        means = _sub(root, "cac:PaymentMeans")  # BG-16
        _sub(means, "cbc:PaymentMeansCode", p.code)  # BT-81
        if e.remittance:
            _sub(means, "cbc:PaymentID", e.remittance)  # BT-83
        account = _sub(means, "cac:PayeeFinancialAccount")
        _sub(account, "cbc:ID", p.account)  # BT-84
        if p.account_name:
            _sub(account, "cbc:Name", p.account_name)  # BT-85
        if p.provider:
            _sub(_sub(account, "cac:FinancialInstitutionBranch"), "cbc:ID", p.provider)  # BT-86
    if e.terms:
        _sub(_sub(root, "cac:PaymentTerms"), "cbc:Note", e.terms)  # BT-20
    for adj in e.adjustments:
        _adjustment(root, adj, cur)

    total = _sub(root, "cac:TaxTotal")
    money(total, "cbc:TaxAmount", e.totals.tax)  # BT-110
    for vat in e.vat:  # BG-23
        sub = _sub(total, "cac:TaxSubtotal")
        money(sub, "cbc:TaxableAmount", vat.basis)  # BT-116
        money(sub, "cbc:TaxAmount", vat.tax)  # BT-117
        _category(sub, "cac:TaxCategory", vat.category, with_reason=True)
    if e.tax_currency and e.totals.tax_accounting is not None:
        money(_sub(root, "cac:TaxTotal"), "cbc:TaxAmount", e.totals.tax_accounting, e.tax_currency)  # BT-111

    t = e.totals
    sums = _sub(root, "cac:LegalMonetaryTotal")  # BG-22
    money(sums, "cbc:LineExtensionAmount", t.lines)  # BT-106
    money(sums, "cbc:TaxExclusiveAmount", t.basis)  # BT-109
    money(sums, "cbc:TaxInclusiveAmount", t.grand)  # BT-112
    if any(not a.charge for a in e.adjustments):
        money(sums, "cbc:AllowanceTotalAmount", t.allowances)  # BT-107
    if any(a.charge for a in e.adjustments):
        money(sums, "cbc:ChargeTotalAmount", t.charges)  # BT-108
    if t.paid:
        money(sums, "cbc:PrepaidAmount", t.paid)  # BT-113
    money(sums, "cbc:PayableAmount", t.payable)  # BT-115

    for line in e.lines:
        _line(root, line, cur, credit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _line(root, line: InvoiceLine, currency: str, credit: bool) -> None:
    el = _sub(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")  # BG-25
    _sub(el, "cbc:ID", line.id)  # BT-126
    if line.note:
        _sub(el, "cbc:Note", line.note)  # BT-127
    _sub(el, "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity", decimal_text(line.quantity),
         unitCode=line.unit)  # BT-129, BT-130
    _sub(el, "cbc:LineExtensionAmount", amount_text(line.amount, currency), currencyID=currency)  # BT-131
    if line.period:
        period = _sub(el, "cac:InvoicePeriod")  # BG-26
        _sub(period, "cbc:StartDate", line.period[0].isoformat())
        _sub(period, "cbc:EndDate", line.period[1].isoformat())
    item = _sub(el, "cac:Item")
    _sub(item, "cbc:Name", line.name)  # BT-153
    _category(item, "cac:ClassifiedTaxCategory", line.category)  # BT-151, BT-152
    price = _sub(el, "cac:Price")
    _sub(price, "cbc:PriceAmount", price_text(line.price, currency), currencyID=currency)  # BT-146
    if line.base_quantity is not None:
        _sub(price, "cbc:BaseQuantity", decimal_text(line.base_quantity), unitCode=line.unit)  # BT-149


def _category(parent, tag: str, cat: Category, with_reason: bool = False) -> None:
    el = _sub(parent, tag)
    _sub(el, "cbc:ID", cat.code)
    if cat.rate is not None:
        _sub(el, "cbc:Percent", decimal_text(cat.rate))
    if with_reason and cat.reason_code:
        _sub(el, "cbc:TaxExemptionReasonCode", cat.reason_code)  # BT-121
    if with_reason and cat.reason:
        _sub(el, "cbc:TaxExemptionReason", cat.reason)  # BT-120
    _sub(_sub(el, "cac:TaxScheme"), "cbc:ID", "VAT")


def _adjustment(root, adj: AllowanceCharge, currency: str) -> None:
    el = _sub(root, "cac:AllowanceCharge")  # BG-20 / BG-21
    _sub(el, "cbc:ChargeIndicator", "true" if adj.charge else "false")
    _sub(el, "cbc:AllowanceChargeReason", adj.reason)  # BT-97 / BT-104
    _sub(el, "cbc:Amount", amount_text(adj.amount, currency), currencyID=currency)  # BT-92 / BT-99
    _category(el, "cac:TaxCategory", adj.category)  # BT-95, BT-96 / BT-102, BT-103


def _party(holder, party: Party, seller: bool) -> None:
    el = _sub(holder, "cac:Party")  # BG-4 / BG-7
    if party.endpoint and party.endpoint[0] != "EM":  # EM (e-mail) is no Peppol address scheme
        _sub(el, "cbc:EndpointID", party.endpoint[1], schemeID=party.endpoint[0])  # BT-34 / BT-49
    if party.identifier:
        _sub(_sub(el, "cac:PartyIdentification"), "cbc:ID", party.identifier)  # BT-29 / BT-46
    a = party.address
    address = _sub(el, "cac:PostalAddress")  # BG-5 / BG-8
    lines = list(a.lines)
    if lines:
        _sub(address, "cbc:StreetName", lines[0])  # BT-35 / BT-50
    if len(lines) > 1:
        _sub(address, "cbc:AdditionalStreetName", lines[1])  # BT-36 / BT-51
    if a.city:
        _sub(address, "cbc:CityName", a.city)
    if a.postcode:
        _sub(address, "cbc:PostalZone", a.postcode)
    if a.subdivision:
        _sub(address, "cbc:CountrySubentity", a.subdivision)
    if len(lines) > 2:
        _sub(_sub(address, "cac:AddressLine"), "cbc:Line", lines[2])  # BT-162 / BT-163
    if a.country:
        _sub(_sub(address, "cac:Country"), "cbc:IdentificationCode", a.country)
    if party.vat_id:
        scheme = _sub(el, "cac:PartyTaxScheme")
        _sub(scheme, "cbc:CompanyID", party.vat_id)  # BT-31 / BT-48
        _sub(_sub(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    if seller and party.tax_registration:
        scheme = _sub(el, "cac:PartyTaxScheme")
        _sub(scheme, "cbc:CompanyID", party.tax_registration)  # BT-32
        _sub(_sub(scheme, "cac:TaxScheme"), "cbc:ID", "TAX")
    legal = _sub(el, "cac:PartyLegalEntity")
    _sub(legal, "cbc:RegistrationName", party.name)  # BT-27 / BT-44
    if party.legal_id:
        _sub(legal, "cbc:CompanyID", party.legal_id)  # BT-30 / BT-47
    c = party.contact
    if c and (c.name or c.phone or c.email):
        contact = _sub(el, "cac:Contact")  # BG-6 / BG-9
        if c.name:
            _sub(contact, "cbc:Name", c.name)
        if c.phone:
            _sub(contact, "cbc:Telephone", c.phone)
        if c.email:
            _sub(contact, "cbc:ElectronicMail", c.email)

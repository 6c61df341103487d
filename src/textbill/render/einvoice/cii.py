"""EN 16931 in UN/CEFACT CII D16B syntax, as the Factur-X / ZUGFeRD EN16931 profile wants it.

Element order follows the Factur-X 1.0 EN16931 XSD; business-term numbers in
the comments map each element back to einvoice_model.
"""
from __future__ import annotations

from datetime import date
from types import MappingProxyType

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

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = MappingProxyType({"rsm": RSM, "qdt": QDT, "ram": RAM, "udt": UDT})

# Factur-X EN16931 profile (= the plain EN 16931 specification identifier, BT-24)
GUIDELINE = "urn:cen.eu:en16931:2017"


def _sub(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    prefix, name = tag.split(":")
    el = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)
    if text is not None:
        el.text = text
    return el


def _date(parent, tag: str, day: date, qualified: bool = False) -> None:
    holder = _sub(parent, tag)
    _sub(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString", day.strftime("%Y%m%d"),
         format="102")


def cii(e: EInvoice) -> bytes:
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=dict(NSMAP))
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", e.number)  # BT-1
    _sub(header, "ram:TypeCode", e.type_code)  # BT-3
    _date(header, "ram:IssueDateTime", e.issue_date)  # BT-2
    for note in e.notes:  # BT-22
        _sub(_sub(header, "ram:IncludedNote"), "ram:Content", note)

    trade = _sub(root, "rsm:SupplyChainTradeTransaction")
    for line in e.lines:
        _line(trade, line, e.currency)

    agreement = _sub(trade, "ram:ApplicableHeaderTradeAgreement")
    if e.buyer_reference:
        _sub(agreement, "ram:BuyerReference", e.buyer_reference)  # BT-10
    _party(agreement, "ram:SellerTradeParty", e.seller, seller=True)
    _party(agreement, "ram:BuyerTradeParty", e.buyer, seller=False)
    if e.order_reference:
        _sub(_sub(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", e.order_reference)

    delivery = _sub(trade, "ram:ApplicableHeaderTradeDelivery")
    if e.delivery_date:
        _date(_sub(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", e.delivery_date)

    settlement = _sub(trade, "ram:ApplicableHeaderTradeSettlement")
    if e.remittance:
        _sub(settlement, "ram:PaymentReference", e.remittance)  # BT-83
    if e.tax_currency:
        _sub(settlement, "ram:TaxCurrencyCode", e.tax_currency)  # BT-6
    _sub(settlement, "ram:InvoiceCurrencyCode", e.currency)  # BT-5
    if e.payment:
        p = e.payment
        means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _sub(means, "ram:TypeCode", p.code)  # BT-81
        account = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
        _sub(account, "ram:IBANID" if p.is_iban else "ram:ProprietaryID", p.account)  # BT-84
        if p.account_name:
            _sub(account, "ram:AccountName", p.account_name)  # BT-85
        if p.provider:
            _sub(_sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", p.provider)  # BT-86
    for vat in e.vat:  # BG-23
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", amount_text(vat.tax, e.currency))  # BT-117
        _sub(tax, "ram:TypeCode", "VAT")
        if vat.category.reason:
            _sub(tax, "ram:ExemptionReason", vat.category.reason)  # BT-120
        _sub(tax, "ram:BasisAmount", amount_text(vat.basis, e.currency))  # BT-116
        _sub(tax, "ram:CategoryCode", vat.category.code)  # BT-118
        if vat.category.reason_code:
            _sub(tax, "ram:ExemptionReasonCode", vat.category.reason_code)  # BT-121
        if vat.category.rate is not None:
            _sub(tax, "ram:RateApplicablePercent", decimal_text(vat.category.rate))  # BT-119
    if e.period:
        start, end = e.period
        period = _sub(settlement, "ram:BillingSpecifiedPeriod")  # BG-14
        if start:
            _date(period, "ram:StartDateTime", start)
        _date(period, "ram:EndDateTime", end)
    for adj in e.adjustments:
        _adjustment(settlement, adj, e.currency)
    if e.terms or e.due_date:
        terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
        if e.terms:
            _sub(terms, "ram:Description", e.terms)  # BT-20
        if e.due_date:
            _date(terms, "ram:DueDateDateTime", e.due_date)  # BT-9

    t = e.totals
    sums = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")  # BG-22
    _sub(sums, "ram:LineTotalAmount", amount_text(t.lines, e.currency))  # BT-106
    if any(a.charge for a in e.adjustments):
        _sub(sums, "ram:ChargeTotalAmount", amount_text(t.charges, e.currency))  # BT-108
    if any(not a.charge for a in e.adjustments):
        _sub(sums, "ram:AllowanceTotalAmount", amount_text(t.allowances, e.currency))  # BT-107
    _sub(sums, "ram:TaxBasisTotalAmount", amount_text(t.basis, e.currency))  # BT-109
    _sub(sums, "ram:TaxTotalAmount", amount_text(t.tax, e.currency), currencyID=e.currency)  # BT-110
    if e.tax_currency and t.tax_accounting is not None:
        _sub(sums, "ram:TaxTotalAmount", amount_text(t.tax_accounting, e.tax_currency),
             currencyID=e.tax_currency)  # BT-111
    _sub(sums, "ram:GrandTotalAmount", amount_text(t.grand, e.currency))  # BT-112
    if t.paid:
        _sub(sums, "ram:TotalPrepaidAmount", amount_text(t.paid, e.currency))  # BT-113
    _sub(sums, "ram:DuePayableAmount", amount_text(t.payable, e.currency))  # BT-115
    if e.preceding:
        number, day = e.preceding
        ref = _sub(settlement, "ram:InvoiceReferencedDocument")  # BG-3
        _sub(ref, "ram:IssuerAssignedID", number)  # BT-25
        _date(ref, "ram:FormattedIssueDateTime", day, qualified=True)  # BT-26

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _line(trade, line: InvoiceLine, currency: str) -> None:
    item = _sub(trade, "ram:IncludedSupplyChainTradeLineItem")  # BG-25
    doc = _sub(item, "ram:AssociatedDocumentLineDocument")
    _sub(doc, "ram:LineID", line.id)  # BT-126
    if line.note:
        _sub(_sub(doc, "ram:IncludedNote"), "ram:Content", line.note)  # BT-127
    _sub(_sub(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.name)  # BT-153
    price = _sub(_sub(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
    _sub(price, "ram:ChargeAmount", price_text(line.price, currency))  # BT-146
    if line.base_quantity is not None:
        _sub(price, "ram:BasisQuantity", decimal_text(line.base_quantity), unitCode=line.unit)  # BT-149
    delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
    _sub(delivery, "ram:BilledQuantity", decimal_text(line.quantity), unitCode=line.unit)  # BT-129, BT-130
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    _category(settlement, "ram:ApplicableTradeTax", line.category)  # BT-151, BT-152
    if line.period:
        period = _sub(settlement, "ram:BillingSpecifiedPeriod")  # BG-26
        _date(period, "ram:StartDateTime", line.period[0])
        _date(period, "ram:EndDateTime", line.period[1])
    sums = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(sums, "ram:LineTotalAmount", amount_text(line.amount, currency))  # BT-131


def _category(parent, tag: str, cat: Category) -> None:
    tax = _sub(parent, tag)
    _sub(tax, "ram:TypeCode", "VAT")
    _sub(tax, "ram:CategoryCode", cat.code)
    if cat.rate is not None:
        _sub(tax, "ram:RateApplicablePercent", decimal_text(cat.rate))


def _adjustment(settlement, adj: AllowanceCharge, currency: str) -> None:
    el = _sub(settlement, "ram:SpecifiedTradeAllowanceCharge")  # BG-20 / BG-21
    _sub(_sub(el, "ram:ChargeIndicator"), "udt:Indicator", "true" if adj.charge else "false")
    _sub(el, "ram:ActualAmount", amount_text(adj.amount, currency))  # BT-92 / BT-99
    _sub(el, "ram:Reason", adj.reason)  # BT-97 / BT-104
    _category(el, "ram:CategoryTradeTax", adj.category)  # BT-95, BT-96 / BT-102, BT-103


def _party(agreement, tag: str, party: Party, seller: bool) -> None:
    el = _sub(agreement, tag)  # BG-4 / BG-7
    if party.identifier:
        _sub(el, "ram:ID", party.identifier)  # BT-29 / BT-46
    _sub(el, "ram:Name", party.name)  # BT-27 / BT-44
    if party.legal_id:
        _sub(_sub(el, "ram:SpecifiedLegalOrganization"), "ram:ID", party.legal_id)  # BT-30 / BT-47
    c = party.contact
    if c and (c.name or c.phone or c.email):
        contact = _sub(el, "ram:DefinedTradeContact")  # BG-6 / BG-9
        if c.name:
            _sub(contact, "ram:PersonName", c.name)
        if c.phone:
            _sub(_sub(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", c.phone)
        if c.email:
            _sub(_sub(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", c.email)
    a = party.address
    address = _sub(el, "ram:PostalTradeAddress")  # BG-5 / BG-8
    if a.postcode:
        _sub(address, "ram:PostcodeCode", a.postcode)
    for tag_name, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), a.lines):
        _sub(address, tag_name, text)
    if a.city:
        _sub(address, "ram:CityName", a.city)
    if a.country:
        _sub(address, "ram:CountryID", a.country)
    if a.subdivision:
        _sub(address, "ram:CountrySubDivisionName", a.subdivision)
    if party.endpoint:
        _sub(_sub(el, "ram:URIUniversalCommunication"), "ram:URIID", party.endpoint[1],
             schemeID=party.endpoint[0])  # BT-34 / BT-49
    if party.vat_id:
        _sub(_sub(el, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")
    if seller and party.tax_registration:
        _sub(_sub(el, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_registration, schemeID="FC")

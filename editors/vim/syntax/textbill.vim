" Vim syntax file
" Language: textbill (.bill invoice ledgers, docs/language.md)
" Install:  copy syntax/ and ftdetect/ into ~/.vim (Vim) or ~/.config/nvim (Neovim)

if exists("b:current_syntax")
  finish
endif

syn case match

syn match textbillComment ";.*$" contains=@Spell
syn region textbillString start=+"+ skip=+\\\\\|\\"+ end=+"+ end=+$+ oneline contains=textbillEscape
syn match textbillEscape +\\[\\"n]+ contained

syn match textbillDate "\<\d\{4}-\d\d-\d\d\>"
syn match textbillClock "\<\d\{1,2}:\d\d-\d\{1,2}:\d\d\>"
syn match textbillDuration "\<\(\d\+h\d\+m\|\d\+\(\.\d\+\)\=h\|\d\+m\)\>"
syn match textbillOffset "[+-]\d\+d\>"
syn match textbillPercent "-\=\<\d\+\(_\d\+\)*\(\.\d\+\)\=%"
syn match textbillNumber "-\=\<\d\+\(_\d\+\)*\(\.\d\+\(_\d\+\)*\)\=\>" contains=NONE
syn match textbillCurrency "\<[A-Z]\{3}\>"
syn match textbillTag "#[a-z0-9][a-z0-9_-]*"
syn match textbillSowRef "\<[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*\>"
syn match textbillDocNumber "\<[A-Z][A-Z0-9]*\([-/][A-Za-z0-9]\+\)\+\>"

syn match textbillBlock "^\(company\|client\|sow\|reminders\|person\)\>"
syn match textbillDated "^\d\{4}-\d\d-\d\d\s\+\(time\|expense\|done\|invoice\|payment\|credit-note\|plan\|reminded\|writeoff\|collections\|fx\|sent\|accepted\)\>" contains=textbillDate,textbillKind
syn keyword textbillKind contained time expense done invoice payment plan reminded writeoff collections fx sent accepted
syn match textbillKind contained "credit-note"
syn match textbillAttribute "^\s\+\(address\|country\|email\|phone\|website\|tax-id\|bank\|currency\|locale\|numbering\|credit-numbering\|payment-methods\|late-interest\|late-fee\|logo\|field\|peppol\|reference\|contact\|terms\|tax\|discount\|reminders\|buyer-reference\|iban\|split-payment\|ksef-number\|role\|rate\|period\|hourly\|fixed\|retainer\|value\|increment\|cap\|schedule\|milestone\|deliverable\|po\|step\|sow\|item\|charge\|due\|note\)\>"
syn keyword textbillKeyword for via ref by full nonbillable markup installments every days of x off
syn keyword textbillKeyword yearly weekly biweekly monthly quarterly net eom exempt bic account routing
syn match textbillKeyword "\<\(on-completion\|due-on-receipt\|reverse-charge\|late-fee\)\>"

hi def link textbillComment Comment
hi def link textbillString String
hi def link textbillEscape SpecialChar
hi def link textbillDate Constant
hi def link textbillClock Number
hi def link textbillDuration Number
hi def link textbillOffset Number
hi def link textbillPercent Number
hi def link textbillNumber Number
hi def link textbillCurrency Type
hi def link textbillTag Label
hi def link textbillSowRef Identifier
hi def link textbillDocNumber Identifier
hi def link textbillBlock Statement
hi def link textbillKind Statement
hi def link textbillAttribute PreProc
hi def link textbillKeyword Keyword

let b:current_syntax = "textbill"

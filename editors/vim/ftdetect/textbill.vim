" textbill ledgers: *.bill files (filetype textbill)
autocmd BufRead,BufNewFile *.bill setfiletype textbill

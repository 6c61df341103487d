;;; textbill-eglot.el --- .bill ledgers in Emacs: a small major mode and `textbill lsp' via eglot

;; Load it from your init file: (load "/path/to/editors/emacs/textbill-eglot.el")

(require 'eglot)

(defconst textbill-font-lock-keywords
  `((";.*$" . font-lock-comment-face)
    ("^\\(company\\|client\\|sow\\|reminders\\)\\_>" . font-lock-keyword-face)
    ("^\\([0-9]\\{4\\}-[0-9][0-9]-[0-9][0-9]\\)[ \t]+\\(time\\|expense\\|done\\|invoice\\|payment\\|credit-note\\|plan\\|reminded\\|writeoff\\|collections\\|fx\\)\\_>"
     (1 font-lock-constant-face) (2 font-lock-keyword-face))
    ("^[ \t]+\\([a-z-]+\\)" 1 font-lock-builtin-face)
    ("#[a-z0-9][a-z0-9_-]*" . font-lock-preprocessor-face)
    ("\\_<[A-Z]\\{3\\}\\_>" . font-lock-type-face)
    ("\\_<[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*\\_>" . font-lock-variable-name-face)))

(define-derived-mode textbill-mode prog-mode "textbill"
  "Major mode for textbill .bill ledgers."
  (setq-local comment-start "; ")
  (setq-local comment-start-skip ";+\\s-*")
  (modify-syntax-entry ?\; "<" textbill-mode-syntax-table)
  (modify-syntax-entry ?\n ">" textbill-mode-syntax-table)
  (modify-syntax-entry ?- "_" textbill-mode-syntax-table)
  (modify-syntax-entry ?/ "_" textbill-mode-syntax-table)
  (setq-local font-lock-defaults '(textbill-font-lock-keywords)))

(add-to-list 'auto-mode-alist '("\\.bill\\'" . textbill-mode))
(add-to-list 'eglot-server-programs '(textbill-mode . ("textbill" "lsp")))
(add-hook 'textbill-mode-hook #'eglot-ensure)

(provide 'textbill-eglot)
;;; textbill-eglot.el ends here

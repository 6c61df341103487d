-- textbill for Neovim (0.11+): the filetype and the language server.
-- Put this in ~/.config/nvim/plugin/textbill.lua (or require it from init.lua); for highlighting,
-- copy editors/vim/syntax and editors/vim/ftdetect into ~/.config/nvim.
vim.filetype.add({ extension = { bill = "textbill" } })

vim.lsp.config("textbill", {
  cmd = { "textbill", "lsp" },
  filetypes = { "textbill" },
  root_markers = { "textbill.yaml", ".git" },
  -- init_options = { asOf = "2026-12-31" },  -- hover figures as of another day
})
vim.lsp.enable("textbill")

-- Neovim 0.10 and older, with nvim-lspconfig installed, instead:
-- local configs = require("lspconfig.configs")
-- configs.textbill = { default_config = { cmd = { "textbill", "lsp" }, filetypes = { "textbill" },
--   root_dir = require("lspconfig.util").root_pattern("textbill.yaml", ".git") } }
-- require("lspconfig").textbill.setup({})

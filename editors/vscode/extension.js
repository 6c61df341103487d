// textbill for VS Code: the .bill language (package.json) and `textbill lsp` as its language server.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("textbill");
  const [command, ...args] = config.get("command", ["textbill", "lsp"]);
  const asOf = config.get("asOf", null);
  client = new LanguageClient(
    "textbill",
    "textbill",
    { command, args, transport: TransportKind.stdio },
    {
      documentSelector: [{ scheme: "file", language: "textbill" }],
      initializationOptions: asOf ? { asOf } : {},
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.bill,textbill.yaml,textbill.lock}") },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// The VS Code client: starts `scorelang lsp` (or the configured command) on stdio for .score files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

async function activate(context) {
  const settings = vscode.workspace.getConfiguration("scorelang");
  const [command, ...args] = settings.get("server.command", ["scorelang", "lsp"]);
  client = new LanguageClient(
    "scorelang",
    "scorelang",
    { command, args },
    {
      documentSelector: [{ language: "score" }],
      initializationOptions: { docsUrl: settings.get("docsUrl", "") },
    },
  );
  context.subscriptions.push(client);
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

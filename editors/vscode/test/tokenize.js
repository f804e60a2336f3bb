// Tokenizes .score files (paths as arguments, or "-" for stdin) with the extension's TextMate
// grammar, as VS Code does (vscode-textmate + vscode-oniguruma), and prints JSON: for each file,
// for each line, the tokens as [start, end, [scopes...]]. tests/test_textmate.py asserts them.
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
const grammarPath = path.join(__dirname, "..", "syntaxes", "score.tmLanguage.json");

async function main() {
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.score"
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
        : null,
  });
  const grammar = await registry.loadGrammar("source.score");
  const files = process.argv.slice(2);
  const out = {};
  for (const file of files) {
    const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    let state = vsctm.INITIAL;
    out[file] = text.split("\n").map((line) => {
      const result = grammar.tokenizeLine(line, state);
      state = result.ruleStack;
      return result.tokens.map((t) => [t.startIndex, Math.min(t.endIndex, line.length), t.scopes]);
    });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

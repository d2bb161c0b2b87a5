// Package javascript rewrites JavaScript and TypeScript call sites so
// planned secrets are read through a generated loader module instead of
// process.env or hardcoded literals:
//
//	process.env.X, process.env["X"]   -> secrets.get("X")
//	"X" in process.env                -> secrets.has("X")
//	const { X, Y: y, Z = d } = process.env
//	                                  -> const X = secrets.get("X"), y = ..., Z = secrets.get("Z") ?? d
//	"hardcoded-value"                 -> secrets.get("ENV_VAR")
//
// Names that are not planned keep reading process.env (in a destructuring
// they stay in the pattern). Reading a vault is asynchronous while
// process.env is not, so the loader fetches every bound secret once at
// start-up into a synchronous cache; the rewrite adds the line that makes
// that happen before the file's first read:
//
//	import secrets from "./env2vault-secrets.mjs";                    // ES modules (top-level await)
//	const secrets = require("./env2vault-secrets.cjs").loadSync();    // CommonJS (child-process fetch)
//	import secrets = require("./env2vault-secrets.cjs"); secrets.loadSync();  // TypeScript compiled to CommonJS
//
// DESIGN.md beside this file explains the choice. Browser code
// (import.meta.env, files under public/ or static/, files importing a UI
// framework) is never rewritten: a secret there would ship to every
// visitor, so Rewrite refuses with ErrFrontend.
//
// Edits are spliced into the source at tree-sitter node byte ranges, so
// comments and formatting stay as they were.
package javascript

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	ts "github.com/tree-sitter/go-tree-sitter"

	"github.com/env2vault/env2vault/internal/envsite"
	"github.com/env2vault/env2vault/rewrite"
)

// Generated file names, placed in the folder of the package.json that
// governs the rewritten files (the repo root when there is none).
const (
	LoaderCJS = "env2vault-secrets.cjs"
	LoaderESM = "env2vault-secrets.mjs"
	TypesCJS  = "env2vault-secrets.d.cts"
	TypesESM  = "env2vault-secrets.d.mts"
)

// ErrFrontend is returned for browser code that reads a planned secret:
// it must move behind a server rather than be rewritten.
var ErrFrontend = errors.New("browser code cannot read secrets from a vault")

var extensions = map[string]envsite.Grammar{
	".js": envsite.JavaScript, ".mjs": envsite.JavaScript, ".cjs": envsite.JavaScript, ".jsx": envsite.JavaScript,
	".ts": envsite.TypeScript, ".mts": envsite.TypeScript, ".cts": envsite.TypeScript, ".tsx": envsite.TSX,
}

// Lang is the JavaScript/TypeScript rewriter. ForRepo binds it to a repo
// (to read package.json and tsconfig.json); the bound rewriter remembers
// which package folders it rewrote for Helper. It is safe for concurrent
// use.
type Lang struct {
	read func(string) ([]byte, error) // nil when not bound to a repo

	mu       sync.Mutex
	pkgDirs  map[string]bool // package folders with rewritten files
	usesTS   bool            // a TypeScript file was rewritten
	pkgCache map[string]pkgInfo
}

type pkgInfo struct {
	dir      string // folder of the nearest package.json ("" = repo root)
	esm      bool   // "type": "module"
	tsModule string // tsconfig.json compilerOptions.module, lower case
}

// New returns the JavaScript/TypeScript rewriter.
func New() rewrite.Language { return newLang(nil) }

func newLang(read func(string) ([]byte, error)) *Lang {
	return &Lang{read: read, pkgDirs: map[string]bool{}, pkgCache: map[string]pkgInfo{}}
}

// ForRepo implements rewrite.RepoAware.
func (l *Lang) ForRepo(r rewrite.Repo) (rewrite.Language, error) {
	return newLang(r.Read), nil
}

// Name implements rewrite.Language.
func (*Lang) Name() string { return "javascript" }

// Match implements rewrite.Language: JavaScript and TypeScript sources,
// not declaration files, node_modules or the generated loader.
func (*Lang) Match(p string) bool {
	base := path.Base(p)
	if strings.HasPrefix(base, "env2vault-secrets.") || strings.Contains(base, ".d.") ||
		strings.HasPrefix(p, "node_modules/") || strings.Contains(p, "/node_modules/") {
		return false
	}
	_, ok := extensions[path.Ext(base)]
	return ok
}

// Rewrite implements rewrite.Language. Literals are replaced wherever
// their exact value appears as a plain string literal in the file (the
// scan's line may be stale); one that is not found is left for the
// caller to notice, since the value is then still in the output.
func (l *Lang) Rewrite(p string, src []byte, e rewrite.Edit) ([]byte, int, error) {
	if !l.Match(p) {
		return nil, 0, fmt.Errorf("%s: not a JavaScript or TypeScript source file", p)
	}
	g := extensions[path.Ext(p)]
	var out []byte
	var changed int
	err := envsite.Parse(g, src, func(t *envsite.Tree) error {
		if t.Root.HasError() {
			return fmt.Errorf("%s: syntax error near line %d; fix the file before rewriting it", p, t.FirstErrorLine())
		}
		fr := &fileRewrite{t: t, path: p, name: bindingName(src), quote: quoteStyle(src)}
		if err := fr.collect(e); err != nil {
			return err
		}
		changed = fr.changed
		if changed == 0 {
			out = src
			return nil
		}
		if why := frontendReason(p, t, fr.sites); why != "" {
			return fmt.Errorf("%s: %w: the file %s; move the secret behind a server endpoint instead", p, ErrFrontend, why)
		}
		info, err := l.pkg(p)
		if err != nil {
			return err
		}
		if !fr.existingImport() {
			ins := fr.importPatch(l.style(p, t, info), importPath(p, info.dir))
			if bytes.Contains(src, []byte("\r\n")) {
				ins.Text = strings.ReplaceAll(ins.Text, "\n", "\r\n")
			}
			fr.patches = append(fr.patches, ins)
		}
		out, err = envsite.Splice(src, fr.patches)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		l.mu.Lock()
		l.pkgDirs[info.dir] = true
		l.usesTS = l.usesTS || g != envsite.JavaScript
		l.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, changed, nil
}

// fileRewrite collects one file's edits.
type fileRewrite struct {
	t       *envsite.Tree
	path    string
	name    string // the loader's local name
	quote   byte
	sites   []envsite.Site
	patches []envsite.Patch
	edited  []*ts.Node
	changed int
}

func (fr *fileRewrite) str(s string) string {
	q := strconv.Quote(s)
	if fr.quote == '\'' && !strings.ContainsAny(s, `'"\`) {
		return "'" + s + "'"
	}
	return q
}

func (fr *fileRewrite) call(key string) string { return fr.name + ".get(" + fr.str(key) + ")" }

func (fr *fileRewrite) collect(e rewrite.Edit) error {
	t := fr.t
	all := t.Sites()
	decls := map[uintptr][]envsite.Site{}
	var declOrder []*ts.Node
	for _, s := range all {
		if !e.Keys[s.Key] {
			continue
		}
		fr.sites = append(fr.sites, s)
		if s.Frontend {
			continue // import.meta.env is never rewritten; see frontendReason
		}
		switch s.Kind {
		case envsite.JSMember:
			fr.add(s.Node, fr.call(s.Key))
		case envsite.JSContains:
			fr.add(s.Node, fr.name+".has("+t.Text(s.KeyNode)+")")
		case envsite.JSSubscript:
			// Only the tokens around the key change, keeping comments.
			open, close := childToken(t, s.Node, "["), childToken(t, s.Node, "]")
			if open == nil || close == nil {
				fr.add(s.Node, fr.name+".get("+t.Text(s.KeyNode)+")")
				continue
			}
			fr.patches = append(fr.patches,
				envsite.Patch{Start: s.Node.StartByte(), End: open.EndByte(), Text: fr.name + ".get("},
				envsite.Patch{Start: close.StartByte(), End: close.EndByte(), Text: ")"})
			fr.edited = append(fr.edited, s.Node)
			fr.changed++
		case envsite.JSDestructure:
			if s.Declarator == nil {
				return fmt.Errorf("%s:%d: %s is destructured from process.env in an assignment; rewrite it by hand as %s", fr.path, s.Line(), s.Key, fr.call(s.Key))
			}
			id := s.Declarator.Id()
			if _, ok := decls[id]; !ok {
				declOrder = append(declOrder, s.Declarator)
			}
			decls[id] = append(decls[id], s)
		}
	}
	for _, lit := range e.Literals {
		for _, n := range t.StringLiterals(lit.Value.Reveal()) {
			if !literalReplaceable(t, n) {
				continue
			}
			if lit.EnvVar == "" {
				return fmt.Errorf("%s:%d: a hardcoded secret has no environment variable name to read it from", fr.path, lit.Line)
			}
			text := fr.call(lit.EnvVar)
			if t.Kind(n.Parent()) == "jsx_attribute" {
				text = "{" + text + "}"
			}
			fr.add(n, text)
		}
	}
	for _, d := range declOrder {
		fr.destructure(d, decls[d.Id()])
	}
	return nil
}

func (fr *fileRewrite) add(n *ts.Node, text string) {
	fr.patches = append(fr.patches, envsite.Patch{Start: n.StartByte(), End: n.EndByte(), Text: text})
	fr.edited = append(fr.edited, n)
	fr.changed++
}

// destructure moves the planned names of one `{ ... } = process.env`
// declarator into declarators of their own; unplanned names stay.
func (fr *fileRewrite) destructure(decl *ts.Node, sites []envsite.Site) {
	t := fr.t
	pat := sites[0].Pattern
	var repl []string
	for _, s := range sites {
		v := fr.call(s.Key)
		if s.Default != nil {
			v += " ?? " + maybeParen(t, s.Default, fr.absorb(s.Default))
		}
		repl = append(repl, t.Text(s.Local)+" = "+v)
	}
	fr.edited = append(fr.edited, decl)
	fr.changed += len(sites)
	if len(sites) == countElements(t, pat) {
		fr.patches = append(fr.patches, envsite.Patch{Start: decl.StartByte(), End: decl.EndByte(), Text: strings.Join(repl, ", ")})
		return
	}
	removed := map[uintptr]bool{}
	for _, s := range sites {
		removed[s.Node.Id()] = true
	}
	// Each removed element takes the space before it and its comma, so
	// neighbouring removals meet without overlapping; the last element
	// takes the comma before it instead when that comma's element stays.
	n := pat.ChildCount()
	for i := uint(1); i < n; i++ {
		el := pat.Child(i)
		if !removed[el.Id()] {
			continue
		}
		start, end := pat.Child(i-1).EndByte(), el.EndByte()
		if i+1 < n && t.Kind(pat.Child(i+1)) == "," {
			end = pat.Child(i + 1).EndByte()
		} else if prev := pat.Child(i - 1); t.Kind(prev) == "," && i >= 2 && !removed[pat.Child(i-2).Id()] {
			start = prev.StartByte()
		}
		fr.patches = append(fr.patches, envsite.Patch{Start: start, End: end})
	}
	fr.patches = append(fr.patches, envsite.Patch{Start: decl.EndByte(), End: decl.EndByte(), Text: ", " + strings.Join(repl, ", ")})
}

func childToken(t *envsite.Tree, n *ts.Node, kind string) *ts.Node {
	for i := uint(0); i < n.ChildCount(); i++ {
		if c := n.Child(i); t.Kind(c) == kind {
			return c
		}
	}
	return nil
}

func countElements(t *envsite.Tree, pat *ts.Node) int {
	c := 0
	for i := uint(0); i < pat.NamedChildCount(); i++ {
		if t.Kind(pat.NamedChild(i)) != "comment" {
			c++
		}
	}
	return c
}

// maybeParen wraps a default value in parentheses unless it is a simple
// operand (?? cannot mix with || and && unparenthesised).
func maybeParen(t *envsite.Tree, n *ts.Node, text string) string {
	switch t.Kind(n) {
	case "string", "number", "template_string", "identifier", "member_expression", "subscript_expression",
		"call_expression", "true", "false", "null", "undefined", "parenthesized_expression", "array", "object":
		return text
	}
	return "(" + text + ")"
}

// absorb returns n's text with the edits already planned inside it
// applied, and drops those edits: n is about to be copied elsewhere (a
// destructuring default that moves), and its old range removed.
func (fr *fileRewrite) absorb(n *ts.Node) string {
	start, end := n.StartByte(), n.EndByte()
	var inner []envsite.Patch
	kept := fr.patches[:0]
	for _, pt := range fr.patches {
		if start <= pt.Start && pt.End <= end {
			inner = append(inner, envsite.Patch{Start: pt.Start - start, End: pt.End - start, Text: pt.Text})
			continue
		}
		kept = append(kept, pt)
	}
	fr.patches = kept
	out, err := envsite.Splice(fr.t.Src[start:end], inner)
	if err != nil {
		return fr.t.Text(n)
	}
	return string(out)
}

// literalReplaceable reports whether a string literal is an expression
// (not an object key, a module name or a type).
func literalReplaceable(t *envsite.Tree, n *ts.Node) bool {
	p := n.Parent()
	switch t.Kind(p) {
	case "pair":
		return !sameNode(p.ChildByFieldName("key"), n)
	case "import_statement", "export_statement", "import_require_clause", "literal_type", "expression_statement":
		// expression_statement: a bare string is a directive or a no-op.
		return false
	}
	return true
}

func sameNode(a, b *ts.Node) bool { return a != nil && b != nil && a.Id() == b.Id() }

// frontendReason says why a file is browser code, or "".
func frontendReason(p string, t *envsite.Tree, sites []envsite.Site) string {
	for _, s := range sites {
		if s.Frontend {
			return "reads import.meta.env (a bundler's build-time variables)"
		}
	}
	for _, seg := range strings.Split(path.Dir(p), "/") {
		switch seg {
		case "public", "static", "www", "frontend", "browser":
			return "is under " + seg + "/, which is served to browsers"
		}
	}
	src := t.Src
	if bytes.Contains(src, []byte(`"use client"`)) || bytes.Contains(src, []byte(`'use client'`)) {
		return `is marked "use client"`
	}
	if !mentionsUI(src) {
		return ""
	}
	if m := uiImportRE.FindSubmatch(src); m != nil {
		return "imports " + string(m[2]) + ", a browser UI framework"
	}
	return ""
}

// mentionsUI is a quick pre-check for uiImportRE.
func mentionsUI(src []byte) bool {
	for _, w := range []string{"react", "vue", "svelte", "preact", "solid-js", "@angular"} {
		if bytes.Contains(src, []byte(w)) {
			return true
		}
	}
	return false
}

var uiImportRE = regexp.MustCompile(`(?m)(from\s+|require\(\s*)["'](react-dom|react|vue|svelte|preact|solid-js|@angular/core)["']`)

// bindingName is the loader's local name: "secrets", unless the file
// already uses that word, or the name of an existing loader import.
func bindingName(src []byte) string {
	if !bytes.Contains(src, []byte("secrets")) {
		return "secrets"
	}
	if m := existingRE.FindSubmatch(src); m != nil {
		return string(m[1])
	}
	if secretsWordRE.Match(src) {
		return "env2vaultSecrets"
	}
	return "secrets"
}

var (
	secretsWordRE = regexp.MustCompile(`(^|[^\w$.])secrets\b`)
	existingRE    = regexp.MustCompile(`(?:import|const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?:=\s*require\(\s*|from\s*)["'][^"'\n]*env2vault-secrets\.(?:c|m)js["']`)
)

func (fr *fileRewrite) existingImport() bool {
	return bytes.Contains(fr.t.Src, []byte("env2vault-secrets.")) && existingRE.Match(fr.t.Src)
}

// quoteStyle guesses the file's string quote from its first literal.
func quoteStyle(src []byte) byte {
	single, double := bytes.Count(src, []byte{'\''}), bytes.Count(src, []byte{'"'})
	if single > double {
		return '\''
	}
	return '"'
}

// Module styles for the loader import.
type style int

const (
	styleESM   style = iota // import secrets from "./env2vault-secrets.mjs";
	styleCJS                // const secrets = require("./env2vault-secrets.cjs").loadSync();
	styleTSCJS              // import secrets = require("./env2vault-secrets.cjs"); secrets.loadSync();
)

// style decides how file p loads modules: by extension, then its own
// syntax (import/export vs require), then package.json "type" and, for
// TypeScript, tsconfig's compilerOptions.module.
func (l *Lang) style(p string, t *envsite.Tree, info pkgInfo) style {
	ts := extensions[path.Ext(p)] != envsite.JavaScript
	switch path.Ext(p) {
	case ".mjs", ".mts":
		return styleESM
	case ".cjs":
		return styleCJS
	case ".cts":
		return styleTSCJS
	}
	if ts {
		switch {
		case strings.HasPrefix(info.tsModule, "es") || info.tsModule == "preserve":
			return styleESM
		case info.tsModule == "" || strings.HasPrefix(info.tsModule, "node"):
			if info.esm {
				return styleESM
			}
			return styleTSCJS
		default: // commonjs, umd, amd, system
			return styleTSCJS
		}
	}
	esmSyntax, cjsSyntax := false, false
	for i := uint(0); i < t.Root.NamedChildCount(); i++ {
		switch t.Kind(t.Root.NamedChild(i)) {
		case "import_statement", "export_statement":
			esmSyntax = true
		}
	}
	if !esmSyntax {
		cjsSyntax = requireRE.Match(t.Src)
	}
	switch {
	case esmSyntax:
		return styleESM
	case cjsSyntax:
		return styleCJS
	case info.esm:
		return styleESM
	}
	return styleCJS
}

var requireRE = regexp.MustCompile(`\brequire\s*\(|\bmodule\.exports\b|\bexports\.`)

// importPatch inserts the loader import after the leading directives,
// imports and require declarations, and before the first statement that
// holds an edit (module code runs in order).
func (fr *fileRewrite) importPatch(st style, rel string) envsite.Patch {
	t := fr.t
	var line string
	switch st {
	case styleESM:
		line = "import " + fr.name + " from " + fr.str(rel+LoaderESM) + ";"
	case styleCJS:
		line = "const " + fr.name + " = require(" + fr.str(rel+LoaderCJS) + ").loadSync();"
	case styleTSCJS:
		line = "import " + fr.name + " = require(" + fr.str(rel+LoaderCJS) + ");\n" + fr.name + ".loadSync();"
	}
	var stmts []*ts.Node
	for i := uint(0); i < t.Root.NamedChildCount(); i++ {
		n := t.Root.NamedChild(i)
		if k := t.Kind(n); k != "comment" && k != "hash_bang_line" {
			stmts = append(stmts, n)
		}
	}
	var last *ts.Node
	directives := true
	for _, n := range stmts {
		k := t.Kind(n)
		directive := directives && k == "expression_statement" && n.NamedChildCount() == 1 && t.Kind(n.NamedChild(0)) == "string"
		directives = directive
		if !(directive || k == "import_statement" || isRequireDecl(t, n)) || envsite.ContainsAny(n, fr.edited) {
			break
		}
		last = n
	}
	src := t.Src
	if last == nil {
		if len(stmts) == 0 {
			return envsite.Patch{Start: uint(len(src)), End: uint(len(src)), Text: "\n" + line + "\n"}
		}
		at := envsite.LineStart(src, stmts[0].StartByte())
		return envsite.Patch{Start: at, End: at, Text: line + "\n"}
	}
	end := last.EndByte()
	nl := envsite.LineEnd(src, end)
	if next := last.NextNamedSibling(); next != nil && next.StartByte() < nl || nl == uint(len(src)) {
		return envsite.Patch{Start: end, End: end, Text: "\n" + line}
	}
	return envsite.Patch{Start: nl + 1, End: nl + 1, Text: line + "\n"}
}

// isRequireDecl reports `const x = require("y")` (or `.z` / a call on
// it) at the top level.
func isRequireDecl(t *envsite.Tree, n *ts.Node) bool {
	k := t.Kind(n)
	if k != "lexical_declaration" && k != "variable_declaration" {
		return false
	}
	any := false
	for i := uint(0); i < n.NamedChildCount(); i++ {
		d := n.NamedChild(i)
		if t.Kind(d) != "variable_declarator" {
			continue
		}
		v := d.ChildByFieldName("value")
		if v == nil || !strings.HasPrefix(t.Text(v), "require(") {
			return false
		}
		any = true
	}
	return any
}

// importPath is the relative specifier prefix from file p to the loader
// in folder dir ("./", "../", "../../lib/", ...).
func importPath(p, dir string) string {
	from := strings.Split(path.Dir(p), "/")
	if path.Dir(p) == "." {
		from = nil
	}
	var to []string
	if dir != "" {
		to = strings.Split(dir, "/")
	}
	i := 0
	for i < len(from) && i < len(to) && from[i] == to[i] {
		i++
	}
	up := len(from) - i
	rel := strings.Repeat("../", up)
	if up == 0 {
		rel = "./"
	}
	for _, s := range to[i:] {
		rel += s + "/"
	}
	return rel
}

// pkg finds the nearest package.json above p and the tsconfig.json
// module setting, through the repo's read function.
func (l *Lang) pkg(p string) (pkgInfo, error) {
	if l.read == nil {
		return pkgInfo{}, nil
	}
	dir := path.Dir(p)
	l.mu.Lock()
	info, ok := l.pkgCache[dir]
	l.mu.Unlock()
	if ok {
		return info, nil
	}
	info = pkgInfo{}
	found := false
	for d := dir; ; d = path.Dir(d) {
		rel := d
		if d == "." {
			rel = ""
		}
		if info.tsModule == "" {
			if raw, err := l.readOpt(path.Join(rel, "tsconfig.json")); err != nil {
				return info, err
			} else if m := tsModuleRE.FindSubmatch(raw); m != nil {
				info.tsModule = strings.ToLower(string(m[1]))
			}
		}
		raw, err := l.readOpt(path.Join(rel, "package.json"))
		if err != nil {
			return info, err
		}
		if raw != nil && !found {
			found = true
			info.dir = rel
			var pj struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(raw, &pj); err != nil {
				return info, fmt.Errorf("%s is not valid JSON: %w", path.Join(rel, "package.json"), err)
			}
			info.esm = pj.Type == "module"
			break
		}
		if d == "." || d == "/" {
			break
		}
	}
	l.mu.Lock()
	l.pkgCache[dir] = info
	l.mu.Unlock()
	return info, nil
}

var (
	tsModuleRE = regexp.MustCompile(`"module"\s*:\s*"([A-Za-z0-9]+)"`)
)

// readOpt reads a repo file; a missing file is (nil, nil).
func (l *Lang) readOpt(p string) ([]byte, error) {
	b, err := l.read(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return b, nil
}

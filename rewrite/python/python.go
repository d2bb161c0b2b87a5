// Package python rewrites Python call sites so planned secrets are read
// through a generated helper module, env2vault_secrets, instead of the
// environment or hardcoded literals:
//
//	os.environ["X"]          -> env2vault_secrets.get("X")
//	os.environ.get("X", d)   -> env2vault_secrets.get("X", d)
//	os.getenv("X")           -> env2vault_secrets.get("X", None)
//	"X" in os.environ        -> env2vault_secrets.has("X")
//	"hardcoded-value"        -> env2vault_secrets.get("ENV_VAR")
//
// (and the same through `from os import environ, getenv` and import
// aliases). get("X") raises KeyError like os.environ["X"] when X is
// nowhere to be found; with a default it returns the default like
// os.environ.get. Reads of keys that are not planned stay byte for byte,
// and so does everything else: edits are spliced into the source at the
// byte ranges of tree-sitter nodes, keeping comments and formatting.
package python

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	ts "github.com/tree-sitter/go-tree-sitter"

	"github.com/env2vault/env2vault/internal/envsite"
	"github.com/env2vault/env2vault/rewrite"
)

// Module is the generated helper module's name; HelperFile its path,
// relative to the repo root.
const (
	Module     = "env2vault_secrets"
	HelperFile = Module + ".py"
)

// Lang is the Python rewriter. It is stateless and safe for concurrent
// use.
type Lang struct{}

// New returns the Python rewriter.
func New() rewrite.Language { return &Lang{} }

// Name implements rewrite.Language.
func (*Lang) Name() string { return "python" }

// Match implements rewrite.Language: .py files, except the generated
// helper itself and installed packages (virtual environments,
// site-packages).
func (*Lang) Match(p string) bool {
	if !strings.HasSuffix(p, ".py") || path.Base(p) == HelperFile {
		return false
	}
	for _, seg := range strings.Split(path.Dir(p), "/") {
		switch seg {
		case "site-packages", "dist-packages", ".venv", "venv", ".tox", "__pypackages__":
			return false
		}
	}
	return true
}

// Rewrite implements rewrite.Language. Literals are replaced wherever
// their exact value appears as a plain string literal in the file (the
// scan's line may be stale); a literal that is not found is left for
// the caller to notice, since the value is then still in the output.
func (l *Lang) Rewrite(p string, src []byte, e rewrite.Edit) ([]byte, int, error) {
	if !l.Match(p) {
		return nil, 0, fmt.Errorf("%s: not a Python file", p)
	}
	var out []byte
	var changed int
	err := envsite.Parse(envsite.Python, src, func(t *envsite.Tree) error {
		if t.Root.HasError() {
			return fmt.Errorf("%s: Python syntax error near line %d; fix the file before rewriting it", p, t.FirstErrorLine())
		}
		var patches []envsite.Patch
		var edited []*ts.Node
		for _, s := range t.Sites() {
			if !e.Keys[s.Key] {
				continue
			}
			patches = append(patches, sitePatches(t, s)...)
			edited = append(edited, s.Node)
			changed++
		}
		for _, lit := range e.Literals {
			for _, n := range t.StringLiterals(lit.Value.Reveal()) {
				if lit.EnvVar == "" {
					return fmt.Errorf("%s:%d: a hardcoded secret has no environment variable name to read it from", p, lit.Line)
				}
				patches = append(patches, envsite.Patch{Start: n.StartByte(), End: n.EndByte(), Text: Module + ".get(" + strconv.Quote(lit.EnvVar) + ")"})
				edited = append(edited, n)
				changed++
			}
		}
		if changed == 0 {
			out = src
			return nil
		}
		if ins, ok := importPatch(t, edited); ok {
			if bytes.Contains(src, []byte("\r\n")) {
				ins.Text = strings.ReplaceAll(ins.Text, "\n", "\r\n")
			}
			patches = append(patches, ins)
		}
		var err error
		out, err = envsite.Splice(src, patches)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, changed, nil
}

// sitePatches turns one read into the helper call, touching only the
// tokens that change so comments inside the call survive.
func sitePatches(t *envsite.Tree, s envsite.Site) []envsite.Patch {
	call := Module + ".get"
	if s.Kind == envsite.PyContains {
		// "X" in os.environ -> env2vault_secrets.has("X")
		text := Module + ".has(" + t.Text(s.KeyNode) + ")"
		if s.Negated {
			text = "not " + text
		}
		return []envsite.Patch{{Start: s.Node.StartByte(), End: s.Node.EndByte(), Text: text}}
	}
	if s.Kind == envsite.PySubscript {
		// os.environ[ "X" ] -> env2vault_secrets.get( "X" )
		open, close := token(t, s.Node, "["), lastToken(t, s.Node, "]")
		return []envsite.Patch{
			{Start: s.Node.StartByte(), End: open.EndByte(), Text: call + "("},
			{Start: close.StartByte(), End: close.EndByte(), Text: ")"},
		}
	}
	ps := []envsite.Patch{{Start: s.Object.StartByte(), End: s.Object.EndByte(), Text: call}}
	if s.NArgs == 1 {
		// os.getenv("X") returns None when X is unset; so must the helper.
		ps = append(ps, envsite.Patch{Start: s.KeyNode.EndByte(), End: s.KeyNode.EndByte(), Text: ", None"})
	}
	return ps
}

func token(t *envsite.Tree, n *ts.Node, kind string) *ts.Node {
	for i := uint(0); i < n.ChildCount(); i++ {
		if c := n.Child(i); t.Kind(c) == kind {
			return c
		}
	}
	return n
}

func lastToken(t *envsite.Tree, n *ts.Node, kind string) *ts.Node {
	for i := n.ChildCount(); i > 0; i-- {
		if c := n.Child(i - 1); t.Kind(c) == kind {
			return c
		}
	}
	return n
}

// importPatch adds `import env2vault_secrets` unless the module already
// imports it: after the module docstring, __future__ imports and the
// leading block of imports, but before the first statement that contains
// an edit, since module-level code runs in order.
func importPatch(t *envsite.Tree, edited []*ts.Node) (envsite.Patch, bool) {
	var stmts []*ts.Node
	for i := uint(0); i < t.Root.NamedChildCount(); i++ {
		st := t.Root.NamedChild(i)
		if t.Kind(st) == "comment" {
			continue
		}
		if t.Kind(st) == "import_statement" && strings.Join(strings.Fields(t.Text(st)), " ") == "import "+Module {
			return envsite.Patch{}, false
		}
		stmts = append(stmts, st)
	}
	var first, last *ts.Node
	if len(stmts) > 0 {
		first = stmts[0]
	}
	for i, st := range stmts {
		k := t.Kind(st)
		docstring := i == 0 && k == "expression_statement" && st.NamedChildCount() == 1 && t.Kind(st.NamedChild(0)) == "string"
		prefix := docstring || k == "import_statement" || k == "import_from_statement" || k == "future_import_statement"
		if !prefix || envsite.ContainsAny(st, edited) {
			break
		}
		last = st
	}
	line := "import " + Module + "\n"
	if last == nil {
		if first == nil {
			return envsite.Patch{Start: uint(len(t.Src)), End: uint(len(t.Src)), Text: "\n" + line}, true
		}
		at := envsite.LineStart(t.Src, first.StartByte())
		return envsite.Patch{Start: at, End: at, Text: line}, true
	}
	end := last.EndByte()
	if nl := envsite.LineEnd(t.Src, end); sameLineHasCode(t, last, nl) {
		return envsite.Patch{Start: end, End: end, Text: "\n" + strings.TrimSuffix(line, "\n")}, true
	} else if nl < uint(len(t.Src)) {
		return envsite.Patch{Start: nl + 1, End: nl + 1, Text: line}, true
	}
	return envsite.Patch{Start: uint(len(t.Src)), End: uint(len(t.Src)), Text: "\n" + line}, true
}

// sameLineHasCode reports whether a statement follows last on its line
// (`import os; x = 1`).
func sameLineHasCode(t *envsite.Tree, last *ts.Node, nl uint) bool {
	next := last.NextNamedSibling()
	for next != nil && t.Kind(next) == "comment" {
		next = next.NextNamedSibling()
	}
	return next != nil && next.StartByte() < nl
}

// Package golang rewrites Go source so that planned secrets are read from
// the backend through a small generated package in the target repo
// (internal/secrets) instead of os.Getenv, os.LookupEnv or hardcoded
// string literals.
//
// Files are parsed with go/parser and edited through github.com/dave/dst,
// so comments and layout survive; output is gofmt-formatted. Imports are
// managed here rather than by dst's import-aware restorer: that restorer
// drops every import whose package name it cannot guess from the path
// (gopkg.in/yaml.v3, github.com/x/go-y, .../v2) and re-sorts import
// groups, while this package only adds the helper import and removes "os"
// once nothing uses it.
//
// What changes:
//
//   - os.Getenv("K") and os.LookupEnv("K") for planned keys become
//     secrets.Getenv("K") and secrets.LookupEnv("K"), drop-in functions
//     with the same signatures (an aliased os import is followed).
//   - A string literal holding a planned value becomes
//     secrets.Getenv("K"); a literal that merely contains the value
//     becomes a concatenation around the lookup.
//   - A const whose value was such a literal becomes a var (moved out of
//     a const group when needed), looked up once at package
//     initialisation; consts of the same file computed from it follow.
//
// Reads of other keys (PORT, DEBUG, ...) are left exactly as they were,
// and a file with nothing to change is returned byte for byte.
package golang

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
	"github.com/dave/dst/dstutil"

	"github.com/env2vault/env2vault/rewrite"
)

// HelperDir is where the generated package goes, relative to the module
// root.
const HelperDir = "internal/secrets"

// Lang is the Go rewriter. The zero value is not usable; call New, then
// ForRepo to learn the module path.
type Lang struct {
	// module is the module path from go.mod; helperPath the helper
	// package's import path.
	module     string
	helperPath string
	dir        string
	read       func(string) ([]byte, error)
}

// New returns the Go rewriter. Call ForRepo before Rewrite or Helper: Go
// needs the module path to import the generated package.
func New() *Lang { return &Lang{} }

// Name implements rewrite.Language.
func (l *Lang) Name() string { return "go" }

// Match implements rewrite.Language: .go files, except tests' testdata,
// vendored code and the generated helper itself.
func (l *Lang) Match(p string) bool {
	if !strings.HasSuffix(p, ".go") {
		return false
	}
	for _, seg := range strings.Split(path.Dir(p), "/") {
		if seg == "vendor" || seg == "testdata" || seg == "node_modules" || seg == ".git" {
			return false
		}
	}
	return path.Dir(p) != HelperDir
}

// ForRepo implements rewrite.RepoAware: it reads go.mod at the repo root
// and returns a rewriter bound to that module.
func (l *Lang) ForRepo(r rewrite.Repo) (rewrite.Language, error) {
	b, err := r.Read("go.mod")
	if err != nil {
		return nil, fmt.Errorf("go: reading go.mod at the repo root (Go code is rewritten only in module-mode repos): %w", err)
	}
	mod := modulePath(b)
	if mod == "" {
		return nil, errors.New("go: go.mod has no module line")
	}
	return &Lang{module: mod, helperPath: mod + "/" + HelperDir, dir: r.Dir, read: r.Read}, nil
}

// nestedModule returns the folder of a go.mod between p and the repo
// root, if any.
func (l *Lang) nestedModule(p string) string {
	if l.read == nil {
		return ""
	}
	for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if _, err := l.read(d + "/go.mod"); err == nil {
			return d
		}
	}
	return ""
}

// HelperImportPath returns the import path of the generated package.
func (l *Lang) HelperImportPath() string { return l.helperPath }

// modulePath returns the module path in a go.mod file.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			rest = strings.TrimSpace(rest)
			if i := strings.Index(rest, "//"); i >= 0 {
				rest = strings.TrimSpace(rest[:i])
			}
			if uq, err := strconv.Unquote(rest); err == nil {
				return uq
			}
			return rest
		}
	}
	return ""
}

// Rewrite implements rewrite.Language.
func (l *Lang) Rewrite(p string, src []byte, e rewrite.Edit) ([]byte, int, error) {
	if l.helperPath == "" {
		return nil, 0, errors.New("go: the rewriter has no module (call ForRepo first)")
	}
	if m := l.nestedModule(p); m != "" {
		return nil, 0, fmt.Errorf("%s is in the nested module %s, which cannot import the repo root's helper; not rewritten", p, m)
	}
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, p, src, parser.ParseComments)
	if err != nil {
		return nil, 0, fmt.Errorf("parsing %s: %w", p, err)
	}
	if !needsWork(af, e) {
		return src, 0, nil
	}
	dec := decorator.NewDecorator(fset)
	f, err := dec.DecorateFile(af)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", p, err)
	}
	rw := &fileRewriter{
		path: p, fset: fset, dec: dec, file: f, edit: e,
		helperName: helperName(f, l.helperPath),
		osNames:    importNames(f, "os"),
	}
	if err := rw.run(); err != nil {
		return nil, 0, err
	}
	if rw.changed == 0 {
		return src, 0, nil
	}
	rw.fixImports(l.helperPath)
	var buf bytes.Buffer
	if err := decorator.NewRestorer().Fprint(&buf, f); err != nil {
		return nil, 0, fmt.Errorf("printing %s: %w", p, err)
	}
	out := buf.Bytes()
	if _, err := parser.ParseFile(token.NewFileSet(), p, out, parser.ParseComments); err != nil {
		return nil, 0, fmt.Errorf("rewriting %s produced invalid Go (a bug in env2vault): %w", p, err)
	}
	if formatted, err := format.Source(out); err == nil {
		out = formatted
	}
	return out, rw.changed, nil
}

// needsWork is a cheap pre-check: any planned key or literal value in the
// file's string literals.
func needsWork(f *ast.File, e rewrite.Edit) bool {
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		if found {
			return false
		}
		bl, ok := n.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(bl.Value)
		if err != nil {
			return true
		}
		if e.Keys[s] {
			found = true
		}
		for _, lit := range e.Literals {
			if !lit.Value.IsZero() && strings.Contains(s, lit.Value.Reveal()) {
				found = true
			}
		}
		return true
	})
	return found
}

// importNames returns the names under which the file imports pkg ("os"
// unless aliased). Blank and dot imports are not followed.
func importNames(f *dst.File, pkg string) map[string]bool {
	names := map[string]bool{}
	for _, is := range f.Imports {
		if p, _ := strconv.Unquote(is.Path.Value); p != pkg {
			continue
		}
		switch {
		case is.Name == nil:
			names[path.Base(pkg)] = true
		case is.Name.Name == "_" || is.Name.Name == ".":
		default:
			names[is.Name.Name] = true
		}
	}
	return names
}

// helperName picks the identifier the helper is imported as: "secrets",
// unless the file already imports it under another name or uses the name
// for something else.
func helperName(f *dst.File, helperPath string) string {
	for _, is := range f.Imports {
		if p, _ := strconv.Unquote(is.Path.Value); p == helperPath {
			if is.Name != nil {
				return is.Name.Name
			}
			return path.Base(helperPath)
		}
	}
	base := path.Base(helperPath)
	used := map[string]bool{}
	dst.Inspect(f, func(n dst.Node) bool {
		if id, ok := n.(*dst.Ident); ok {
			used[id.Name] = true
		}
		return true
	})
	for _, is := range f.Imports {
		if is.Name != nil {
			used[is.Name.Name] = true
		} else if p, err := strconv.Unquote(is.Path.Value); err == nil {
			used[path.Base(p)] = true
		}
	}
	name := base
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	return name
}

// fileRewriter holds one file's rewrite.
type fileRewriter struct {
	path       string
	fset       *token.FileSet
	dec        *decorator.Decorator
	file       *dst.File
	edit       rewrite.Edit
	helperName string
	osNames    map[string]bool
	changed    int
	// consts are const specs whose value now calls the helper, with the
	// declaration holding each.
	consts map[*dst.ValueSpec]*dst.GenDecl
	// usedHelper records whether the helper import is needed.
	usedHelper bool
}

// line returns the 1-based source line of a decorated node.
func (r *fileRewriter) line(n dst.Node) int {
	an, ok := r.dec.Ast.Nodes[n]
	if !ok {
		return 0
	}
	return r.fset.Position(an.Pos()).Line
}

// lookupCall builds helper.fn("KEY").
func (r *fileRewriter) lookupCall(fn, key string) *dst.CallExpr {
	r.usedHelper = true
	return &dst.CallExpr{
		Fun:  &dst.SelectorExpr{X: dst.NewIdent(r.helperName), Sel: dst.NewIdent(fn)},
		Args: []dst.Expr{&dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(key)}},
	}
}

// literalPlan maps each string literal node to the literal edit that
// applies to it, preferring literals on the recorded line and falling back
// to a match anywhere in the file when the line moved.
func (r *fileRewriter) literalPlan() map[*dst.BasicLit]rewrite.Literal {
	type cand struct {
		bl   *dst.BasicLit
		s    string
		line int
	}
	var cands []cand
	dst.Inspect(r.file, func(n dst.Node) bool {
		switch n := n.(type) {
		case *dst.ImportSpec:
			return false
		case *dst.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil {
				return true
			}
			cands = append(cands, cand{n, s, r.line(n)})
		}
		return true
	})
	out := map[*dst.BasicLit]rewrite.Literal{}
	for _, lit := range r.edit.Literals {
		v := lit.Value.Reveal()
		if v == "" || lit.EnvVar == "" {
			continue
		}
		var onLine, anywhere []*dst.BasicLit
		for _, c := range cands {
			if !strings.Contains(c.s, v) {
				continue
			}
			anywhere = append(anywhere, c.bl)
			if c.line == lit.Line {
				onLine = append(onLine, c.bl)
			}
		}
		pick := onLine
		if len(pick) == 0 {
			pick = anywhere
		}
		for _, bl := range pick {
			if _, taken := out[bl]; !taken {
				out[bl] = lit
			}
		}
	}
	return out
}

// replacement returns the expression that replaces a string literal
// holding s, where s contains lit's value.
func (r *fileRewriter) replacement(s string, lit rewrite.Literal) dst.Expr {
	v := lit.Value.Reveal()
	parts := strings.Split(s, v)
	var expr dst.Expr
	add := func(e dst.Expr) {
		if expr == nil {
			expr = e
			return
		}
		expr = &dst.BinaryExpr{X: expr, Op: token.ADD, Y: e}
	}
	for i, p := range parts {
		if p != "" {
			add(&dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(p)})
		}
		if i < len(parts)-1 {
			add(r.lookupCall("Getenv", lit.EnvVar))
		}
	}
	return expr
}

// run applies the edit to the decorated file.
func (r *fileRewriter) run() error {
	lits := r.literalPlan()
	r.consts = map[*dst.ValueSpec]*dst.GenDecl{}
	var stack []dst.Node
	var ferr error
	dstutil.Apply(r.file, func(c *dstutil.Cursor) bool {
		n := c.Node()
		if n == nil {
			return true
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *dst.Field:
			if n.Tag != nil {
				if lit, ok := lits[n.Tag]; ok {
					ferr = fmt.Errorf("%s:%d: %s is in a struct tag, which cannot call a function; move it out by hand", r.path, r.line(n.Tag), lit.EnvVar)
					delete(lits, n.Tag)
				}
			}
		case *dst.CallExpr:
			r.rewireEnvCall(n)
		case *dst.BasicLit:
			lit, ok := lits[n]
			if !ok {
				return true
			}
			s, _ := strconv.Unquote(n.Value)
			repl := r.replacement(s, lit)
			// Keep the literal's comments on the replacement.
			*repl.Decorations() = n.Decs.NodeDecs
			c.Replace(repl)
			r.changed++
			r.noteConst(stack)
		}
		return true
	}, func(c *dstutil.Cursor) bool {
		if c.Node() != nil && len(stack) > 0 {
			stack = stack[:len(stack)-1]
		}
		return true
	})
	if ferr != nil {
		return ferr
	}
	return r.convertConsts()
}

// rewireEnvCall turns os.Getenv("K") / os.LookupEnv("K") for a planned K
// into the helper's function of the same name.
func (r *fileRewriter) rewireEnvCall(call *dst.CallExpr) {
	sel, ok := call.Fun.(*dst.SelectorExpr)
	if !ok || len(call.Args) != 1 {
		return
	}
	x, ok := sel.X.(*dst.Ident)
	if !ok || !r.osNames[x.Name] {
		return
	}
	// A local variable named like the import shadows it.
	if ax, ok := r.dec.Ast.Nodes[x].(*ast.Ident); ok && ax.Obj != nil {
		return
	}
	if sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv" {
		return
	}
	arg, ok := call.Args[0].(*dst.BasicLit)
	if !ok || arg.Kind != token.STRING {
		return
	}
	key, err := strconv.Unquote(arg.Value)
	if err != nil || !r.edit.Keys[key] {
		return
	}
	x.Name = r.helperName
	r.usedHelper = true
	r.changed++
}

// noteConst records the const spec (if any) enclosing the node on top of
// stack.
func (r *fileRewriter) noteConst(stack []dst.Node) {
	for i := len(stack) - 1; i >= 1; i-- {
		vs, ok := stack[i].(*dst.ValueSpec)
		if !ok {
			continue
		}
		if gd, ok := stack[i-1].(*dst.GenDecl); ok && gd.Tok == token.CONST {
			r.consts[vs] = gd
		}
		return
	}
}

// convertConsts turns const specs that now call the helper into vars,
// together with consts of this file computed from them.
func (r *fileRewriter) convertConsts() error {
	if len(r.consts) == 0 {
		return nil
	}
	// Which names become vars, to a fixpoint over const specs that refer
	// to them.
	names := map[string]bool{}
	for vs := range r.consts {
		for _, id := range vs.Names {
			names[id.Name] = true
		}
	}
	for grew := true; grew; {
		grew = false
		dst.Inspect(r.file, func(n dst.Node) bool {
			gd, ok := n.(*dst.GenDecl)
			if !ok || gd.Tok != token.CONST {
				return true
			}
			for _, s := range gd.Specs {
				vs := s.(*dst.ValueSpec)
				if _, done := r.consts[vs]; done || !refersTo(vs, names) {
					continue
				}
				r.consts[vs] = gd
				for _, id := range vs.Names {
					names[id.Name] = true
				}
				grew = true
			}
			return true
		})
	}
	byDecl := map[*dst.GenDecl][]*dst.ValueSpec{}
	for vs, gd := range r.consts {
		byDecl[gd] = append(byDecl[gd], vs)
	}
	for gd, specs := range byDecl {
		if err := r.convertDecl(gd, specs); err != nil {
			return err
		}
	}
	return nil
}

// refersTo reports whether spec's values use any of names.
func refersTo(vs *dst.ValueSpec, names map[string]bool) bool {
	found := false
	for _, v := range vs.Values {
		dst.Inspect(v, func(n dst.Node) bool {
			if id, ok := n.(*dst.Ident); ok && id.Path == "" && names[id.Name] {
				found = true
			}
			return !found
		})
	}
	return found
}

// usesIota reports whether a const spec's values mention iota.
func usesIota(vs *dst.ValueSpec) bool {
	return refersTo(vs, map[string]bool{"iota": true})
}

// convertDecl makes specs of const declaration gd into vars: the whole
// declaration when every spec goes, else the specs move into a new var
// declaration right after it (package level) or the whole group converts
// when that is safe (inside a function).
func (r *fileRewriter) convertDecl(gd *dst.GenDecl, specs []*dst.ValueSpec) error {
	moving := map[*dst.ValueSpec]bool{}
	for _, vs := range specs {
		moving[vs] = true
	}
	wholeSafe := true
	for _, s := range gd.Specs {
		vs := s.(*dst.ValueSpec)
		if len(vs.Values) == 0 || usesIota(vs) {
			wholeSafe = false
		}
	}
	for _, vs := range specs {
		r.typeConvert(vs)
	}
	if len(specs) == len(gd.Specs) && wholeSafe {
		gd.Tok = token.VAR
		return nil
	}
	idx := -1
	for i, d := range r.file.Decls {
		if d == gd {
			idx = i
		}
	}
	if idx < 0 {
		if wholeSafe {
			gd.Tok = token.VAR
			return nil
		}
		return fmt.Errorf("%s:%d: a local const group uses iota or implicit values, so it cannot become a var; rewrite it by hand",
			r.path, r.line(specs[0]))
	}
	var keep, move []dst.Spec
	for i, s := range gd.Specs {
		vs := s.(*dst.ValueSpec)
		if !moving[vs] {
			keep = append(keep, s)
			continue
		}
		if len(vs.Values) == 0 || usesIota(vs) {
			return fmt.Errorf("%s:%d: const %s uses iota or an implicit value, so it cannot become a var; rewrite it by hand",
				r.path, r.line(vs), vs.Names[0].Name)
		}
		if i+1 < len(gd.Specs) && !moving[gd.Specs[i+1].(*dst.ValueSpec)] && len(gd.Specs[i+1].(*dst.ValueSpec).Values) == 0 {
			return fmt.Errorf("%s:%d: the const after %s repeats its value implicitly, so it cannot become a var; rewrite it by hand",
				r.path, r.line(vs), vs.Names[0].Name)
		}
		move = append(move, s)
	}
	gd.Specs = keep
	nd := &dst.GenDecl{Tok: token.VAR, Specs: move}
	nd.Decs.Before = dst.EmptyLine
	nd.Decs.After = dst.EmptyLine
	if len(move) > 1 {
		nd.Lparen, nd.Rparen = true, true
	}
	for _, s := range move {
		vs := s.(*dst.ValueSpec)
		if len(move) == 1 {
			// The spec's leading comment becomes the declaration's.
			nd.Decs.Start = vs.Decs.Start
			vs.Decs.Start = nil
			vs.Decs.Before = dst.None
		}
	}
	decls := append([]dst.Decl{}, r.file.Decls[:idx+1]...)
	decls = append(decls, nd)
	r.file.Decls = append(decls, r.file.Decls[idx+1:]...)
	return nil
}

// typeConvert keeps a typed const's type when it becomes a var initialised
// by a lookup returning string: a named type wraps the call in a
// conversion.
func (r *fileRewriter) typeConvert(vs *dst.ValueSpec) {
	if vs.Type == nil {
		return
	}
	if id, ok := vs.Type.(*dst.Ident); ok && id.Name == "string" && id.Path == "" {
		return
	}
	for i, v := range vs.Values {
		if containsHelperCall(v, r.helperName) {
			vs.Values[i] = &dst.CallExpr{Fun: dst.Clone(vs.Type).(dst.Expr), Args: []dst.Expr{v}}
		}
	}
}

// containsHelperCall reports whether e calls the helper.
func containsHelperCall(e dst.Expr, helper string) bool {
	found := false
	dst.Inspect(e, func(n dst.Node) bool {
		if sel, ok := n.(*dst.SelectorExpr); ok {
			if x, ok := sel.X.(*dst.Ident); ok && x.Name == helper {
				found = true
			}
		}
		return !found
	})
	return found
}

// fixImports adds the helper import and removes os imports nothing uses
// any more.
func (r *fileRewriter) fixImports(helperPath string) {
	usedOS := map[string]bool{}
	dst.Inspect(r.file, func(n dst.Node) bool {
		if sel, ok := n.(*dst.SelectorExpr); ok {
			if x, ok := sel.X.(*dst.Ident); ok && r.osNames[x.Name] {
				// A local variable named like the import is not a use.
				if ax, ok := r.dec.Ast.Nodes[x].(*ast.Ident); ok && ax.Obj != nil {
					return true
				}
				usedOS[x.Name] = true
			}
		}
		return true
	})
	hasHelper := false
	for _, is := range r.file.Imports {
		if p, _ := strconv.Unquote(is.Path.Value); p == helperPath {
			hasHelper = true
		}
	}
	var block *dst.GenDecl
	for _, d := range r.file.Decls {
		gd, ok := d.(*dst.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		if block == nil && !(len(gd.Specs) == 1 && isCImport(gd.Specs[0])) {
			block = gd
		}
		var keep []dst.Spec
		for _, s := range gd.Specs {
			is := s.(*dst.ImportSpec)
			p, _ := strconv.Unquote(is.Path.Value)
			name := path.Base(p)
			if is.Name != nil {
				name = is.Name.Name
			}
			if p == "os" && r.osNames[name] && !usedOS[name] {
				continue
			}
			keep = append(keep, s)
		}
		if len(keep) > 0 && len(keep) < len(gd.Specs) {
			// Keep the blank-line grouping of what follows a removed spec.
			keep[0].(*dst.ImportSpec).Decs.Before = gd.Specs[0].(*dst.ImportSpec).Decs.Before
		}
		gd.Specs = keep
	}
	if !hasHelper && r.usedHelper {
		spec := &dst.ImportSpec{Path: &dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(helperPath)}}
		if r.helperName != path.Base(helperPath) {
			spec.Name = dst.NewIdent(r.helperName)
		}
		if block == nil {
			block = &dst.GenDecl{Tok: token.IMPORT}
			block.Decs.Before = dst.EmptyLine
			block.Decs.After = dst.EmptyLine
			r.file.Decls = append([]dst.Decl{block}, r.file.Decls...)
		}
		// The helper is a module-local import: it goes in a group of its
		// own after the standard library when the block has only std
		// imports, else at the end of the last group.
		onlyStd := true
		for _, s := range block.Specs {
			p, _ := strconv.Unquote(s.(*dst.ImportSpec).Path.Value)
			if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
				onlyStd = false
			}
		}
		if len(block.Specs) > 0 && onlyStd {
			spec.Decs.Before = dst.EmptyLine
		} else {
			spec.Decs.Before = dst.NewLine
		}
		block.Specs = append(block.Specs, spec)
		if len(block.Specs) > 1 {
			block.Lparen, block.Rparen = true, true
		}
	}
	// Drop import declarations left empty.
	var decls []dst.Decl
	for _, d := range r.file.Decls {
		if gd, ok := d.(*dst.GenDecl); ok && gd.Tok == token.IMPORT && len(gd.Specs) == 0 {
			continue
		}
		decls = append(decls, d)
	}
	r.file.Decls = decls
}

func isCImport(s dst.Spec) bool {
	is, ok := s.(*dst.ImportSpec)
	return ok && is.Path.Value == `"C"`
}

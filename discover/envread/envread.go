// Package envread finds the places where source code reads environment
// variables by name: os.Getenv in Go, os.environ / os.getenv in Python,
// process.env in JavaScript and TypeScript (and import.meta.env in
// browser code). It parses — go/parser for Go, tree-sitter for the rest —
// so reads in comments and strings are not reported, and writes
// (os.environ["X"] = v, process.env.X = v) are not reads.
//
// Reads is safe for concurrent use; tree-sitter parsers are pooled.
package envread

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"strconv"
	"strings"

	"github.com/env2vault/env2vault/internal/envsite"
)

// Languages a Read can have.
const (
	LangGo         = "go"
	LangPython     = "python"
	LangJavaScript = "javascript"
	LangTypeScript = "typescript"
)

// Read is one read of an environment variable by a constant name.
type Read struct {
	// Line and Column are 1-based; Column counts bytes.
	Line, Column int
	// Key is the environment variable name.
	Key string
	// Language is "go", "python", "javascript" or "typescript".
	Language string
}

// ErrUnsupported is returned by Reads for a file type it does not parse.
var ErrUnsupported = errors.New("unsupported file type")

// ErrSyntax is wrapped by the error Reads returns for a file with syntax
// errors. The reads that could still be found are returned alongside it.
var ErrSyntax = errors.New("syntax error")

type kind struct {
	lang    string
	grammar envsite.Grammar
	goSrc   bool
}

var byExt = map[string]kind{
	".go":  {lang: LangGo, goSrc: true},
	".py":  {lang: LangPython, grammar: envsite.Python},
	".js":  {lang: LangJavaScript, grammar: envsite.JavaScript},
	".mjs": {lang: LangJavaScript, grammar: envsite.JavaScript},
	".cjs": {lang: LangJavaScript, grammar: envsite.JavaScript},
	".jsx": {lang: LangJavaScript, grammar: envsite.JavaScript},
	".ts":  {lang: LangTypeScript, grammar: envsite.TypeScript},
	".mts": {lang: LangTypeScript, grammar: envsite.TypeScript},
	".cts": {lang: LangTypeScript, grammar: envsite.TypeScript},
	".tsx": {lang: LangTypeScript, grammar: envsite.TSX},
}

// Supported reports whether Reads parses files like path (by extension).
// TypeScript declaration files (.d.ts) hold no code and are not
// supported.
func Supported(path string) bool {
	_, ok := lookup(path)
	return ok
}

func lookup(p string) (kind, bool) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(p, `\`, "/")))
	if strings.HasSuffix(base, ".d.ts") || strings.HasSuffix(base, ".d.mts") || strings.HasSuffix(base, ".d.cts") {
		return kind{}, false
	}
	k, ok := byExt[path.Ext(base)]
	return k, ok
}

// Reads returns the environment reads in content, a file at path, in
// source order. Only reads by a constant name are reported. For a file
// with syntax errors it returns what it found and an error wrapping
// ErrSyntax.
func Reads(path string, content []byte) ([]Read, error) {
	k, ok := lookup(path)
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, ErrUnsupported)
	}
	if k.goSrc {
		return goReads(path, content)
	}
	if !mayRead(k.grammar, content) {
		return nil, nil
	}
	var out []Read
	var synErr error
	err := envsite.Parse(k.grammar, content, func(t *envsite.Tree) error {
		for _, s := range t.Sites() {
			out = append(out, Read{Line: s.Line(), Column: s.Column(), Key: s.Key, Language: k.lang})
		}
		if t.Root.HasError() {
			synErr = syntaxError(t, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return out, synErr
}

// mayRead is a cheap necessary condition for a file to hold a read, so
// that most files of a large scan skip parsing. Python reads need the
// identifier environ or getenv; JavaScript reads need an env property
// (process.env, import.meta.env): "env" after a dot (or after a comment
// that follows the dot), not followed by an identifier character. (Error
// recovery in a broken file may still find a read this skips.)
func mayRead(g envsite.Grammar, content []byte) bool {
	if g == envsite.Python {
		return bytes.Contains(content, []byte("environ")) || bytes.Contains(content, []byte("getenv"))
	}
	for off := 0; ; {
		i := bytes.Index(content[off:], []byte("env"))
		if i < 0 {
			return false
		}
		i += off
		off = i + 3
		if off < len(content) && isIdentByte(content[off]) {
			continue
		}
		j := i - 1
		newline := false
		for j >= 0 && (content[j] == ' ' || content[j] == '\t' || content[j] == '\n' || content[j] == '\r') {
			newline = newline || content[j] == '\n'
			j--
		}
		if j >= 0 && (content[j] == '.' || content[j] == '/') {
			return true
		}
		// A line comment may sit between the dot and env.
		if newline && bytes.Contains(content[bytes.LastIndexByte(content[:j+1], '\n')+1:j+1], []byte("//")) {
			return true
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func syntaxError(t *envsite.Tree, path string) error {
	return fmt.Errorf("%s:%d: %w (reads found elsewhere in the file are still reported)", path, t.FirstErrorLine(), ErrSyntax)
}

// goReads finds os.Getenv("X") and os.LookupEnv("X") calls, following
// import aliases and string constants declared in the file.
func goReads(path string, content []byte) ([]Read, error) {
	if !bytes.Contains(content, []byte("Getenv")) && !bytes.Contains(content, []byte("LookupEnv")) {
		return nil, nil
	}
	fset := token.NewFileSet()
	f, perr := parser.ParseFile(fset, path, content, parser.SkipObjectResolution)
	if f == nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrSyntax, perr)
	}
	osNames := map[string]bool{}
	dotImport := false
	for _, imp := range f.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err != nil || p != "os" {
			continue
		}
		switch {
		case imp.Name == nil:
			osNames["os"] = true
		case imp.Name.Name == ".":
			dotImport = true
		case imp.Name.Name != "_":
			osNames[imp.Name.Name] = true
		}
	}
	if len(osNames) == 0 && !dotImport {
		return nil, syntaxErr(path, perr)
	}
	consts := goConsts(f)
	var out []Read
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		var fn string
		switch fun := call.Fun.(type) {
		case *ast.SelectorExpr:
			if x, ok := fun.X.(*ast.Ident); ok && osNames[x.Name] {
				fn = fun.Sel.Name
			}
		case *ast.Ident:
			if dotImport {
				fn = fun.Name
			}
		}
		if fn != "Getenv" && fn != "LookupEnv" {
			return true
		}
		key, ok := goConstString(call.Args[0], consts)
		if !ok || key == "" {
			return true
		}
		pos := fset.Position(call.Pos())
		out = append(out, Read{Line: pos.Line, Column: pos.Column, Key: key, Language: LangGo})
		return true
	})
	return out, syntaxErr(path, perr)
}

func syntaxErr(path string, perr error) error {
	if perr == nil {
		return nil
	}
	return fmt.Errorf("%s: %w: %v", path, ErrSyntax, perr)
}

// goConsts collects string constants declared anywhere in the file
// (package level or in functions) by a single literal. Names declared
// twice in different scopes are dropped as ambiguous.
func goConsts(f *ast.File) map[string]string {
	consts := map[string]string{}
	ambiguous := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		d, ok := n.(*ast.GenDecl)
		if !ok || d.Tok != token.CONST {
			return true
		}
		for _, spec := range d.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Values) != len(vs.Names) {
				continue
			}
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					continue
				}
				if _, dup := consts[name.Name]; dup {
					ambiguous[name.Name] = true
				}
				consts[name.Name] = v
			}
		}
		return true
	})
	for n := range ambiguous {
		delete(consts, n)
	}
	return consts
}

func goConstString(e ast.Expr, consts map[string]string) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		v, err := strconv.Unquote(x.Value)
		return v, err == nil
	case *ast.Ident:
		v, ok := consts[x.Name]
		return v, ok
	case *ast.ParenExpr:
		return goConstString(x.X, consts)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok1 := goConstString(x.X, consts)
		b, ok2 := goConstString(x.Y, consts)
		return a + b, ok1 && ok2
	}
	return "", false
}

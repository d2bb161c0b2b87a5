package javascript

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/internal/envsite"
	"github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/secret"
)

var update = flag.Bool("update", false, "update golden files")

func keys(k ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range k {
		m[s] = true
	}
	return m
}

func lit(line int, v, env string) rewrite.Literal {
	return rewrite.Literal{Line: line, Value: secret.New(v), EnvVar: env}
}

// secretKeys are planned; PORT, DEBUG, LOG_LEVEL and FALLBACK are
// configuration and must keep reading process.env.
var secretKeys = keys("STRIPE_SECRET_KEY", "SESSION_SECRET", "SENDGRID_API_KEY", "DATABASE_URL")

// repoFiles returns a read function over an in-memory repo.
func repoFiles(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, fs.ErrNotExist
	}
}

func forRepo(t testing.TB, files map[string]string) rewrite.Language {
	t.Helper()
	l, err := New().(rewrite.RepoAware).ForRepo(rewrite.Repo{Read: repoFiles(files)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var (
	cjsRepo    = map[string]string{"package.json": `{"name": "web"}`}
	esmRepo    = map[string]string{"package.json": `{"name": "web", "type": "module"}`}
	tsESMRepo  = map[string]string{"package.json": `{"name": "web"}`, "tsconfig.json": "{\n  // comment\n  \"compilerOptions\": {\"module\": \"ESNext\"}\n}"}
	tsCJSRepo  = map[string]string{"package.json": `{"name": "web"}`, "tsconfig.json": `{"compilerOptions": {"module": "commonjs"}}`}
	nestedRepo = map[string]string{"package.json": `{"name": "mono"}`, "services/api/package.json": `{"name": "api"}`}
)

var goldenCases = []struct {
	name    string
	path    string
	repo    map[string]string
	edit    rewrite.Edit
	changed int
}{
	{"member", "src/server.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 2},
	{"subscript", "index.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 4},
	{"destructure_all", "src/server.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"destructure_mixed", "config.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 4},
	{"esm", "src/app.mjs", cjsRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"esm_by_package", "main.js", esmRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"typescript_esm", "src/config.ts", tsESMRepo, rewrite.Edit{Keys: secretKeys}, 2},
	{"typescript_cjs", "src/app.ts", tsCJSRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"literal", "billing.js", cjsRepo, rewrite.Edit{Literals: []rewrite.Literal{lit(3, "LITERAL-stripe-0123456789abcdef", "STRIPE_SECRET_KEY")}}, 2},
	{"config_only", "config.js", cjsRepo, rewrite.Edit{Keys: secretKeys, Literals: []rewrite.Literal{lit(1, "LITERAL-absent-0123456789", "X")}}, 0},
	{"shebang_strict", "bin/cli.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"comments_formatting", "settings.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 2},
	{"nested_dir", "services/api/lib/db/url.js", nestedRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"already_imported", "a.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"name_taken", "a.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"cts_file", "src/key.cts", cjsRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"crlf", "crlf.js", cjsRepo, rewrite.Edit{Keys: secretKeys}, 1},
	{"nested_default", "a.js", cjsRepo, rewrite.Edit{Keys: secretKeys, Literals: []rewrite.Literal{lit(1, "LITERAL-stripe-0123456789abcdef", "STRIPE_LITERAL")}}, 3},
}

func TestRewriteGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			l := forRepo(t, tc.repo)
			in, err := os.ReadFile(filepath.Join("testdata", tc.name+".input"))
			if err != nil {
				t.Fatal(err)
			}
			out, n, err := l.Rewrite(tc.path, in, tc.edit)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.changed {
				t.Errorf("changed = %d, want %d", n, tc.changed)
			}
			if n == 0 && !bytes.Equal(out, in) {
				t.Errorf("a file with nothing to change must come back byte for byte")
			}
			for _, lit := range tc.edit.Literals {
				if bytes.Contains(out, []byte(lit.Value.Reveal())) {
					t.Errorf("output still holds a planted literal (env %s)", lit.EnvVar)
				}
			}
			if !parses(tc.path, out) {
				t.Errorf("output has syntax errors (tree-sitter)")
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs from %s:\n%s", golden, out)
			}
			again, n2, err := l.Rewrite(tc.path, out, tc.edit)
			if err != nil || n2 != 0 || !bytes.Equal(again, out) {
				t.Errorf("second rewrite: changed %d, err %v", n2, err)
			}
		})
	}
}

// TestGoldenNodeCheck runs node --check on every JavaScript golden file
// (ES module syntax checked as .mjs). TypeScript goldens are checked by
// the tree-sitter TypeScript grammar in TestRewriteGolden.
func TestGoldenNodeCheck(t *testing.T) {
	node := nodeBin(t)
	dir := t.TempDir()
	for _, tc := range goldenCases {
		ext := filepath.Ext(tc.path)
		if ext != ".js" && ext != ".mjs" && ext != ".cjs" {
			continue
		}
		src, err := os.ReadFile(filepath.Join("testdata", tc.name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(src, []byte("\nimport ")) || bytes.HasPrefix(src, []byte("import ")) {
			ext = ".mjs"
		} else if ext == ".js" {
			ext = ".cjs"
		}
		p := filepath.Join(dir, tc.name+ext)
		if err := os.WriteFile(p, src, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(node, "--check", p).CombinedOutput(); err != nil {
			t.Errorf("%s: node --check: %v\n%s", tc.name, err, out)
		}
	}
}

func TestRewriteRefusals(t *testing.T) {
	l := forRepo(t, cjsRepo)
	tests := []struct {
		name, path, src string
		want            string
		frontend        bool
	}{
		{"import.meta.env beside process.env", "src/app.js", "const a = import.meta.env.STRIPE_SECRET_KEY;\nconst b = process.env.SESSION_SECRET;\n", "import.meta.env", true},
		{"served folder", "public/app.js", "const b = process.env.SESSION_SECRET;\n", "under public/", true},
		{"ui framework", "src/App.jsx", "import React from 'react';\nexport const k = process.env.SESSION_SECRET;\n", "imports react", true},
		{"use client", "app/page.tsx", "\"use client\";\nexport const k = process.env.SESSION_SECRET;\n", "use client", true},
		{"destructuring assignment", "a.js", "let SESSION_SECRET;\n({ SESSION_SECRET } = process.env);\n", "rewrite it by hand", false},
		{"syntax error", "a.js", "const a = process.env.SESSION_SECRET;\nfunction ( {\n", "syntax error near line 2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := l.Rewrite(tt.path, []byte(tt.src), rewrite.Edit{Keys: secretKeys})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
			if got := errors.Is(err, ErrFrontend); got != tt.frontend {
				t.Errorf("errors.Is(err, ErrFrontend) = %v", got)
			}
		})
	}
	// Frontend files with nothing planned to change are left alone.
	src := []byte("export const maps = import.meta.env.VITE_MAPS_KEY;\n")
	out, n, err := l.Rewrite("src/config.ts", src, rewrite.Edit{Keys: keys("VITE_MAPS_KEY")})
	if err != nil || n != 0 || !bytes.Equal(out, src) {
		t.Errorf("import.meta.env only: n=%d err=%v", n, err)
	}
}

func TestMatch(t *testing.T) {
	l := New()
	for p, want := range map[string]bool{
		"src/server.js": true, "a.mjs": true, "a.cjs": true, "a.jsx": true, "a.ts": true, "a.tsx": true, "a.mts": true, "a.cts": true,
		"types.d.ts": false, "node_modules/x/index.js": false, "web/node_modules/x/index.js": false,
		"env2vault-secrets.cjs": false, "env2vault-secrets.mjs": false, "a.py": false, "a.json": false,
	} {
		if got := l.Match(p); got != want {
			t.Errorf("Match(%q) = %v", p, got)
		}
	}
}

func TestImportPath(t *testing.T) {
	for _, tc := range []struct{ file, dir, want string }{
		{"server.js", "", "./"},
		{"src/server.js", "", "../"},
		{"a/b/c.js", "", "../../"},
		{"services/api/lib/x.js", "services/api", "../"},
		{"services/api/x.js", "services/api", "./"},
		{"tools/x.js", "services/api", "../services/api/"},
	} {
		if got := importPath(tc.file, tc.dir); got != tc.want {
			t.Errorf("importPath(%q, %q) = %q, want %q", tc.file, tc.dir, got, tc.want)
		}
	}
}

func parses(p string, src []byte) bool {
	g := extensions[filepath.Ext(p)]
	ok := false
	_ = envsite.Parse(g, src, func(tr *envsite.Tree) error {
		ok = !tr.Root.HasError()
		return nil
	})
	return ok
}

func nodeBin(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed for this test: %v", err)
	}
	return p
}

func BenchmarkRewrite(b *testing.B) {
	var src strings.Builder
	src.WriteString("const express = require(\"express\");\n")
	for i := 0; i < 200; i++ {
		src.WriteString("function f" + strconv.Itoa(i) + "(x) {\n  const key = process.env.STRIPE_SECRET_KEY;\n  const port = process.env.PORT || 3000;\n  return [1, 2, 3].map((v) => v * x + port + key);\n}\n")
	}
	in := []byte(src.String())
	l := forRepo(b, cjsRepo)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, n, err := l.Rewrite("big.js", in, rewrite.Edit{Keys: secretKeys}); err != nil || n != 200 {
			b.Fatalf("%d, %v", n, err)
		}
	}
}

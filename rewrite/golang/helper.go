package golang

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
)

// Client module versions the generated helper requires, the same ones
// env2vault itself is built and tested with (a test checks them against
// this module's go.mod).
var clientModules = map[string][]string{
	plan.BackendVault: {"github.com/hashicorp/vault/api@v1.23.0"},
	plan.BackendGCP:   {"cloud.google.com/go/secretmanager@v1.24.0"},
	plan.BackendAWS: {
		"github.com/aws/aws-sdk-go-v2@v1.48.0",
		"github.com/aws/aws-sdk-go-v2/config@v1.33.18",
		"github.com/aws/aws-sdk-go-v2/service/secretsmanager@v1.50.12",
	},
}

// GoGetTimeout bounds the `go get` that adds the client module to the
// target repo's go.mod.
var GoGetTimeout = 5 * time.Minute

// Helper implements rewrite.Language: the generated package
// (internal/secrets/secrets.go) and go.mod / go.sum with the backend's
// client module required.
func (l *Lang) Helper(b plan.Backend, bindings []rewrite.Binding, read func(string) ([]byte, error)) ([]rewrite.File, error) {
	if l.helperPath == "" {
		return nil, errors.New("go: the rewriter has no module (call ForRepo first)")
	}
	kind := rewrite.BackendKind(b)
	existing, err := read(HelperDir + "/secrets.go")
	switch {
	case err == nil:
		old, err := existingBindings(kind, existing)
		if err != nil {
			return nil, err
		}
		bindings = mergeBindings(old, bindings)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("go: reading %s/secrets.go: %w", HelperDir, err)
	}
	src, err := HelperSource(b, bindings)
	if err != nil {
		return nil, err
	}
	files := []rewrite.File{{Path: HelperDir + "/secrets.go", Content: src}}
	mod, sum, err := l.requireClient(b, read)
	if err != nil {
		return nil, err
	}
	files = append(files, rewrite.File{Path: "go.mod", Content: mod})
	if sum != nil {
		files = append(files, rewrite.File{Path: "go.sum", Content: sum})
	}
	return files, nil
}

// requireClient returns go.mod and go.sum with the backend's client
// module added, computed by `go get -modfile` against a copy so the repo
// itself is not touched.
func (l *Lang) requireClient(b plan.Backend, read func(string) ([]byte, error)) (mod, sum []byte, err error) {
	kind := rewrite.BackendKind(b)
	mods, ok := clientModules[kind]
	if !ok {
		return nil, nil, fmt.Errorf("go: unknown backend %q", b.Kind)
	}
	gomod, err := read("go.mod")
	if err != nil {
		return nil, nil, fmt.Errorf("go: reading go.mod: %w", err)
	}
	gosum, err := read("go.sum")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("go: reading go.sum: %w", err)
	}
	tmp, err := os.MkdirTemp("", "env2vault-gomod-")
	if err != nil {
		return nil, nil, fmt.Errorf("go: %w", err)
	}
	defer os.RemoveAll(tmp)
	modfile := filepath.Join(tmp, "go.mod")
	if err := os.WriteFile(modfile, gomod, 0o644); err != nil {
		return nil, nil, fmt.Errorf("go: %w", err)
	}
	if gosum != nil {
		if err := os.WriteFile(filepath.Join(tmp, "go.sum"), gosum, 0o644); err != nil {
			return nil, nil, fmt.Errorf("go: %w", err)
		}
	}
	dir := l.dir
	args := []string{"get"}
	if dir != "" {
		// -modfile keeps relative replace directives meaningful.
		args = append(args, "-modfile="+modfile)
	} else {
		dir = tmp
	}
	args = append(args, mods...)
	ctx, cancel := context.WithTimeout(context.Background(), GoGetTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("go: adding %s to go.mod: %v: %s", strings.Join(mods, ", "), err, bytes.TrimSpace(out))
	}
	mod, err = os.ReadFile(modfile)
	if err != nil {
		return nil, nil, fmt.Errorf("go: %w", err)
	}
	sum, err = os.ReadFile(filepath.Join(tmp, "go.sum"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("go: %w", err)
	}
	return markDirect(mod, mods), sum, nil
}

// markDirect drops the "// indirect" comment go get leaves on the client
// modules (nothing imported them when it ran; the helper does).
func markDirect(gomod []byte, mods []string) []byte {
	out := string(gomod)
	for _, m := range mods {
		path, _, _ := strings.Cut(m, "@")
		re := regexp.MustCompile(`(?m)^(\s*(?:require\s+)?` + regexp.QuoteMeta(path) + `\s+\S+)\s*// indirect\s*$`)
		out = re.ReplaceAllString(out, "$1")
	}
	return []byte(out)
}

// HelperSource returns the generated package's source for backend b.
func HelperSource(b plan.Backend, bindings []rewrite.Binding) ([]byte, error) {
	rows, err := rewrite.BindingTable(b, bindings)
	if err != nil {
		return nil, fmt.Errorf("go: %w", err)
	}
	var buf bytes.Buffer
	err = helperTmpl.Execute(&buf, map[string]any{"Kind": rewrite.BackendKind(b), "Rows": rows, "KV1": b.KVVersion == 1})
	if err != nil {
		return nil, fmt.Errorf("go: generating the helper: %w", err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("go: generated helper does not format (a bug in env2vault): %w", err)
	}
	return out, nil
}

// targetFields names the generated target struct's fields, per backend
// kind, in the order of rewrite.BindingRow's target tuples.
var targetFields = map[string][]string{
	plan.BackendVault: {"mount", "path", "field"},
	plan.BackendGCP:   {"project", "secret"},
	plan.BackendAWS:   {"region", "name"},
}

// targetLit writes a binding's target tuple as a Go composite literal of
// the generated target struct.
func targetLit(kind string, parts []string) string {
	names := targetFields[kind]
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = names[i] + ": " + strconv.Quote(p)
	}
	return "{" + strings.Join(q, ", ") + "}"
}

var helperTmpl = template.Must(template.New("helper").Funcs(template.FuncMap{"quote": strconv.Quote, "target": targetLit}).Parse(generatedHeader + `

// Package secrets reads this module's secrets at run time from
{{if eq .Kind "vault"}}// HashiCorp Vault (KV v{{if .KV1}}1{{else}}2{{end}}).
{{- else if eq .Kind "gcp"}}// Google Secret Manager.
{{- else}}// AWS Secrets Manager.{{end}}
//
// It holds bindings — which environment variable, in which environment,
// lives where — and never a value. The environment comes from
// ENV2VAULT_ENV (default "dev").
{{- if eq .Kind "vault"}} Vault is reached with VAULT_ADDR and VAULT_TOKEN
// (and the other VAULT_* variables the Vault client reads).
{{- else if eq .Kind "gcp"}} Google credentials come from Application
// Default Credentials.
{{- else}} AWS credentials come from the default credential
// chain.{{end}}
//
// A variable with no binding in the current environment is read from
// the process environment, so settings that were never migrated keep
// working. Values are read once and cached for the life of the process.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
{{if eq .Kind "vault"}}
	vault "github.com/hashicorp/vault/api"
{{- else if eq .Kind "gcp"}}
	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
{{- else}}
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
{{- end}}
)

// EnvironmentVariable names the variable that selects the environment.
const EnvironmentVariable = "ENV2VAULT_ENV"

// DefaultEnvironment applies when ENV2VAULT_ENV is unset.
const DefaultEnvironment = "dev"

// Timeout bounds each lookup made through Getenv or LookupEnv.
var Timeout = 15 * time.Second

// ErrNotSet reports a variable with no binding in the current environment
// that the process environment does not set either.
var ErrNotSet = errors.New("not bound in this environment and not set")

type target struct {
{{- if eq .Kind "vault"}}
	mount, path, field string
{{- else if eq .Kind "gcp"}}
	project, secret string
{{- else}}
	region, name string
{{- end}}
}

// bindings maps a variable name and an environment to where its secret
// lives.
var bindings = map[string]map[string]target{
{{- range .Rows}}
	{{quote .EnvVar}}: {
	{{- $r := .}}
	{{- range .Envs}}
		{{quote .}}: {{target $.Kind (index $r.Targets .)}},
	{{- end}}
	},
{{- end}}
}

var (
	mu    sync.Mutex
	cache = map[string]string{}
)

// Environment returns the environment whose bindings apply.
func Environment() string {
	if e := os.Getenv(EnvironmentVariable); e != "" {
		return e
	}
	return DefaultEnvironment
}

// Get returns the value of the variable name in the current environment:
// read from the backend when it is bound there, else from the process
// environment (ErrNotSet when that lacks it too).
func Get(ctx context.Context, name string) (string, error) {
	env := Environment()
	t, ok := bindings[name][env]
	if !ok {
		if v, ok := os.LookupEnv(name); ok {
			return v, nil
		}
		return "", fmt.Errorf("secrets: %s: %w (environment %q)", name, ErrNotSet, env)
	}
	key := env + "\x00" + name
	mu.Lock()
	defer mu.Unlock()
	if v, ok := cache[key]; ok {
		return v, nil
	}
	v, err := fetch(ctx, t)
	if err != nil {
		return "", fmt.Errorf("secrets: reading %s for environment %q: %w", name, env, err)
	}
	cache[key] = v
	return v, nil
}

// LookupEnv is a drop-in for os.LookupEnv. A backend error is reported on
// standard error (it never contains the value) and reads as unset.
func LookupEnv(name string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	v, err := Get(ctx, name)
	if err != nil {
		if !errors.Is(err, ErrNotSet) {
			fmt.Fprintln(os.Stderr, err)
		}
		return "", false
	}
	return v, true
}

// Getenv is a drop-in for os.Getenv; see LookupEnv for errors.
func Getenv(name string) string {
	v, _ := LookupEnv(name)
	return v
}
{{if eq .Kind "vault"}}
var client *vault.Client

func fetch(ctx context.Context, t target) (string, error) {
	if client == nil {
		c, err := vault.NewClient(vault.DefaultConfig())
		if err != nil {
			return "", err
		}
		client = c
	}
{{- if .KV1}}
	s, err := client.KVv1(t.mount).Get(ctx, t.path)
{{- else}}
	s, err := client.KVv2(t.mount).Get(ctx, t.path)
{{- end}}
	if err != nil {
		return "", err
	}
	raw, ok := s.Data[t.field]
	if !ok {
		return "", fmt.Errorf("%s/%s has no field %q", t.mount, t.path, t.field)
	}
	v, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("%s/%s field %q is not a string", t.mount, t.path, t.field)
	}
	return v, nil
}
{{- else if eq .Kind "gcp"}}
var client *secretmanager.Client

func fetch(ctx context.Context, t target) (string, error) {
	if client == nil {
		c, err := secretmanager.NewClient(ctx)
		if err != nil {
			return "", err
		}
		client = c
	}
	resp, err := client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{
		Name: "projects/" + t.project + "/secrets/" + t.secret + "/versions/latest",
	})
	if err != nil {
		return "", err
	}
	return string(resp.GetPayload().GetData()), nil
}
{{- else}}
var clients = map[string]*secretsmanager.Client{}

func fetch(ctx context.Context, t target) (string, error) {
	c := clients[t.region]
	if c == nil {
		cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(t.region))
		if err != nil {
			return "", err
		}
		c = secretsmanager.NewFromConfig(cfg)
		clients[t.region] = c
	}
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(t.name)})
	if err != nil {
		return "", err
	}
	if out.SecretString != nil {
		return *out.SecretString, nil
	}
	return string(out.SecretBinary), nil
}
{{- end}}
`))

// generatedHeader starts every helper this package writes.
const generatedHeader = "// Code generated by env2vault; DO NOT EDIT."

// existingBindings reads the bindings of a helper generated by an earlier
// run, so a later rewrite (another secret, another language pass) adds to
// them instead of dropping them. A file env2vault did not generate is an
// error: rewrite does not overwrite people's code.
func existingBindings(kind string, src []byte) ([]rewrite.Binding, error) {
	if !bytes.HasPrefix(src, []byte(generatedHeader)) {
		return nil, fmt.Errorf("go: %s/secrets.go exists and was not generated by env2vault; move it away first", HelperDir)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "secrets.go", src, 0)
	if err != nil {
		return nil, fmt.Errorf("go: reading the existing %s/secrets.go: %w", HelperDir, err)
	}
	var out []rewrite.Binding
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			if len(vs.Names) != 1 || vs.Names[0].Name != "bindings" || len(vs.Values) != 1 {
				continue
			}
			outer, ok := vs.Values[0].(*ast.CompositeLit)
			if !ok {
				continue
			}
			for _, e := range outer.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				envVar := unquoteLit(kv.Key)
				inner, ok := kv.Value.(*ast.CompositeLit)
				if !ok {
					continue
				}
				for _, ie := range inner.Elts {
					ikv, ok := ie.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					fields := map[string]string{}
					if tl, ok := ikv.Value.(*ast.CompositeLit); ok {
						for _, fe := range tl.Elts {
							if fkv, ok := fe.(*ast.KeyValueExpr); ok {
								if id, ok := fkv.Key.(*ast.Ident); ok {
									fields[id.Name] = unquoteLit(fkv.Value)
								}
							}
						}
					}
					b := rewrite.Binding{EnvVar: envVar, Environment: unquoteLit(ikv.Key)}
					switch kind {
					case plan.BackendGCP:
						b.Target = plan.Target{Project: fields["project"], SecretID: fields["secret"]}
					case plan.BackendAWS:
						b.Target = plan.Target{Region: fields["region"], Name: fields["name"]}
					default:
						b.Target = plan.Target{Mount: fields["mount"], Path: fields["path"], Field: fields["field"]}
					}
					if b.EnvVar != "" && b.Environment != "" {
						out = append(out, b)
					}
				}
			}
		}
	}
	return out, nil
}

func unquoteLit(e ast.Expr) string {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return ""
	}
	s, _ := strconv.Unquote(bl.Value)
	return s
}

// mergeBindings returns old bindings not overridden by a new one (same
// variable and environment), then the new ones.
func mergeBindings(old, cur []rewrite.Binding) []rewrite.Binding {
	type key struct{ ev, env string }
	seen := map[key]bool{}
	for _, b := range cur {
		seen[key{b.EnvVar, b.Environment}] = true
	}
	var out []rewrite.Binding
	for _, b := range old {
		if !seen[key{b.EnvVar, b.Environment}] {
			out = append(out, b)
		}
	}
	return append(out, cur...)
}

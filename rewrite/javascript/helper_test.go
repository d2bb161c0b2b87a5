package javascript

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/env2vault/env2vault/internal/kvhttptest"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/rewrite"
)

// Probes print "NAME sha256(value)" per name (or the error), never a
// value.
const (
	probeBody = `
const crypto = require("node:crypto");
const digest = (v) => (v === undefined ? "undefined" : crypto.createHash("sha256").update(v).digest("hex"));
for (const name of process.argv.slice(2)) console.log(name, digest(secrets.get(name)));
console.log("HAS", process.argv.slice(2).map((n) => secrets.has(n)).join(","));
`
	probeCJS = `let secrets;
try {
  secrets = require("./env2vault-secrets.cjs").loadSync();
} catch (err) {
  console.log("ERROR", err.message);
  process.exit(0);
}` + probeBody
	probeESM = `import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
let secrets;
try {
  secrets = (await import("./env2vault-secrets.mjs")).default;
} catch (err) {
  console.log("ERROR", err.message);
  process.exit(0);
}` + probeBody
	probeUnloaded = `const secrets = require("./env2vault-secrets.cjs");
try {
  secrets.get(process.argv[2]);
  console.log("NO ERROR");
} catch (err) {
  console.log("ERROR", err.message);
}
console.log("UNBOUND", secrets.get("UNBOUND_KEY") === process.env.UNBOUND_KEY ? "from process.env" : "wrong");
`
)

func randomValue(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-value-" + hex.EncodeToString(b)
}

func digest(v string) string {
	s := sha256.Sum256([]byte(v))
	return hex.EncodeToString(s[:])
}

func vaultBinding(env, envVar, mount, path, field string) rewrite.Binding {
	return rewrite.Binding{EnvVar: envVar, Environment: env, SecretName: strings.ToLower(envVar),
		Target: plan.Target{Mount: mount, Path: path, Field: field}}
}

// runLoader writes the loader and a probe into a temp folder and runs the
// probe with exactly env (plus PATH and HOME). It returns name -> digest.
func runLoader(t *testing.T, loader []byte, probe, probeName string, env []string, extra map[string]string, names ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{LoaderCJS: string(loader), LoaderESM: esmSource, probeName: probe}
	for k, v := range extra {
		files[k] = v
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(nodeBin(t), append([]string{probeName}, names...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Probes print digests and error messages only.
		t.Fatalf("probe failed: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		got[k] = v
	}
	return got
}

func TestLoaderVaultKV2(t *testing.T) {
	token := randomValue(t)
	srv := kvhttptest.New(token)
	defer srv.Close()
	a, bDev, bProd, c := randomValue(t), randomValue(t), randomValue(t), randomValue(t)
	srv.PutV2("secret", "web/dev/a", map[string]string{"value": a})
	srv.PutV2("secret", "web/dev/b", map[string]string{"password": bDev, "user": "x"})
	srv.PutV2("secret", "web/prod/b", map[string]string{"password": bProd})
	srv.PutV2("secret", "web/dev/shared", map[string]string{"one": a, "two": c})
	loader, err := LoaderSource(plan.Backend{Kind: plan.BackendVault, KVVersion: 2}, []rewrite.Binding{
		vaultBinding("dev", "A_KEY", "secret", "web/dev/a", ""),
		vaultBinding("dev", "B_KEY", "secret", "web/dev/b", "password"),
		vaultBinding("prod", "B_KEY", "secret", "web/prod/b", "password"),
		vaultBinding("dev", "ONE", "secret", "web/dev/shared", "one"),
		vaultBinding("dev", "TWO", "secret", "web/dev/shared", "two"),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"VAULT_ADDR=" + srv.URL, "VAULT_TOKEN=" + token, "C_KEY=" + c}
	want := map[string]string{"A_KEY": digest(a), "B_KEY": digest(bDev), "C_KEY": digest(c), "D_KEY": "undefined", "ONE": digest(a), "TWO": digest(c),
		"HAS": "true,true,true,false,true,true"}
	for _, tc := range []struct{ name, probe, file string }{{"commonjs loadSync", probeCJS, "probe.cjs"}, {"es module top-level await", probeESM, "probe.mjs"}} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Reads()
			got := runLoader(t, loader, tc.probe, tc.file, base, nil, "A_KEY", "B_KEY", "C_KEY", "D_KEY", "ONE", "TWO")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if n := srv.Reads() - before; n != 3 {
				t.Errorf("server answered %d reads, want 3 (one per secret path)", n)
			}
		})
	}
	t.Run("prod", func(t *testing.T) {
		got := runLoader(t, loader, probeCJS, "probe.cjs", append(base, "ENV2VAULT_ENV=prod", "A_KEY="+c), nil, "A_KEY", "B_KEY")
		if diff := cmp.Diff(map[string]string{"A_KEY": digest(c), "B_KEY": digest(bProd), "HAS": "true,true"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("token file", func(t *testing.T) {
		got := runLoader(t, loader, probeCJS, "probe.cjs", []string{"VAULT_ADDR=" + srv.URL}, map[string]string{".vault-token": token + "\n"}, "A_KEY")
		if got["A_KEY"] != digest(a) {
			t.Errorf("A_KEY = %q", got["A_KEY"])
		}
	})
	t.Run("read before load", func(t *testing.T) {
		got := runLoader(t, loader, probeUnloaded, "probe.cjs", append(base, "UNBOUND_KEY=x"), nil, "A_KEY")
		if !strings.HasPrefix(got["ERROR"], "env2vault: A_KEY was read before the secrets were loaded") || got["UNBOUND"] != "from process.env" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			env  []string
			want string
		}{
			{[]string{"VAULT_ADDR=" + srv.URL, "VAULT_TOKEN=wrong"}, `env2vault: reading A_KEY for environment "dev": Vault answered HTTP 403 for secret/web/dev/a`},
			{[]string{"VAULT_TOKEN=" + token}, `env2vault: reading A_KEY for environment "dev": set VAULT_ADDR`},
			{[]string{"VAULT_ADDR=" + srv.URL}, `env2vault: reading A_KEY for environment "dev": set VAULT_TOKEN`},
		} {
			for _, p := range []struct{ probe, file string }{{probeCJS, "probe.cjs"}, {probeESM, "probe.mjs"}} {
				got := runLoader(t, loader, p.probe, p.file, tc.env, nil, "A_KEY")
				if !strings.HasPrefix(got["ERROR"], tc.want) {
					t.Errorf("%s: error = %q, want %q", p.file, got["ERROR"], tc.want)
				}
			}
		}
	})
}

func TestLoaderVaultKV1NamespaceTLS(t *testing.T) {
	token := randomValue(t)
	srv := kvhttptest.NewTLS(token)
	defer srv.Close()
	srv.Namespace = "team-web"
	v := randomValue(t)
	srv.PutV1("kv", "web/dev/session", map[string]string{"value": v})
	ca, err := srv.WriteCACert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loader, err := LoaderSource(plan.Backend{Kind: plan.BackendVault, KVVersion: 1}, []rewrite.Binding{vaultBinding("dev", "SESSION_SECRET", "kv", "web/dev/session", "")})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"VAULT_ADDR=" + srv.URL, "VAULT_TOKEN=" + token, "VAULT_NAMESPACE=team-web", "VAULT_CACERT=" + ca}
	if got := runLoader(t, loader, probeCJS, "probe.cjs", env, nil, "SESSION_SECRET"); got["SESSION_SECRET"] != digest(v) {
		t.Errorf("SESSION_SECRET = %q", got)
	}
	got := runLoader(t, loader, probeCJS, "probe.cjs", env[:3], nil, "SESSION_SECRET")
	if !strings.Contains(got["ERROR"], "certificate") {
		t.Errorf("without the CA: %q", got)
	}
}

// TestLoaderRealVault reads through a real Vault dev server (see
// scripts/vault-dev).
func TestLoaderRealVault(t *testing.T) {
	e := vaulttest.Server(t)
	ctx := context.Background()
	v2, v1 := randomValue(t), randomValue(t)
	if _, err := e.Client.KVv2(e.KV2).Put(ctx, "web/dev/stripe", map[string]any{"value": v2}); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.KVv1(e.KV1).Put(ctx, "web/dev/session", map[string]any{"secret": v1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kv      int
		binding rewrite.Binding
		want    string
	}{
		{2, vaultBinding("dev", "STRIPE_SECRET_KEY", e.KV2, "web/dev/stripe", "value"), v2},
		{1, vaultBinding("dev", "SESSION_SECRET", e.KV1, "web/dev/session", "secret"), v1},
	} {
		loader, err := LoaderSource(plan.Backend{Kind: plan.BackendVault, KVVersion: tc.kv}, []rewrite.Binding{tc.binding})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct{ probe, file string }{{probeCJS, "probe.cjs"}, {probeESM, "probe.mjs"}} {
			got := runLoader(t, loader, p.probe, p.file, e.Vars(), nil, tc.binding.EnvVar)
			if got[tc.binding.EnvVar] != digest(tc.want) {
				t.Errorf("KV v%d %s: got %q, want the stored value's digest", tc.kv, p.file, got)
			}
		}
	}
}

// Stand-in client packages with the call shapes of
// @google-cloud/secret-manager and @aws-sdk/client-secrets-manager,
// serving values from FAKE_<secret> environment variables.
var fakePackages = map[string]string{
	"node_modules/@google-cloud/secret-manager/package.json": `{"name": "@google-cloud/secret-manager", "main": "index.js"}`,
	"node_modules/@google-cloud/secret-manager/index.js": `class SecretManagerServiceClient {
  async accessSecretVersion({ name }, options) {
    if (!name.endsWith("/versions/latest") || !options.timeout) throw new Error("bad request " + name);
    return [{ payload: { data: Buffer.from(process.env["FAKE_" + name.split("/")[3]]) } }];
  }
}
module.exports = { SecretManagerServiceClient };
`,
	"node_modules/@aws-sdk/client-secrets-manager/package.json": `{"name": "@aws-sdk/client-secrets-manager", "main": "index.js"}`,
	"node_modules/@aws-sdk/client-secrets-manager/index.js": `class GetSecretValueCommand { constructor(input) { this.input = input; } }
class SecretsManagerClient {
  constructor(config) { this.region = config.region; }
  async send(cmd) {
    if (this.region !== "eu-west-1") throw new Error("wrong region " + this.region);
    const id = cmd.input.SecretId;
    if (id === "missing") throw new Error("ResourceNotFoundException: no such secret");
    return { SecretString: process.env["FAKE_" + id.replace(/\//g, "_")] };
  }
}
module.exports = { SecretsManagerClient, GetSecretValueCommand };
`,
}

func TestLoaderGCPAndAWS(t *testing.T) {
	v := randomValue(t)
	gcp, err := LoaderSource(plan.Backend{Kind: plan.BackendGCP}, []rewrite.Binding{
		{EnvVar: "HF_TOKEN", Environment: "dev", Target: plan.Target{Project: "p1", SecretID: "hf-token"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := runLoader(t, gcp, probeESM, "probe.mjs", []string{"FAKE_hf-token=" + v}, fakePackages, "HF_TOKEN"); got["HF_TOKEN"] != digest(v) {
		t.Errorf("gcp: %q", got)
	}
	aws, err := LoaderSource(plan.Backend{Kind: plan.BackendAWS, Region: "eu-west-1"}, []rewrite.Binding{
		{EnvVar: "HF_TOKEN", Environment: "dev", Target: plan.Target{Name: "web/hf"}},
		{EnvVar: "GONE", Environment: "prod", Target: plan.Target{Name: "missing"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := runLoader(t, aws, probeCJS, "probe.cjs", []string{"FAKE_web_hf=" + v}, fakePackages, "HF_TOKEN"); got["HF_TOKEN"] != digest(v) {
		t.Errorf("aws: %q", got)
	}
	got := runLoader(t, aws, probeCJS, "probe.cjs", []string{"ENV2VAULT_ENV=prod"}, fakePackages, "GONE")
	if got["ERROR"] != `env2vault: reading GONE for environment "prod": ResourceNotFoundException: no such secret` {
		t.Errorf("aws missing: %q", got)
	}
}

func TestLoaderErrors(t *testing.T) {
	if _, err := LoaderSource(plan.Backend{Kind: "azure"}, []rewrite.Binding{{EnvVar: "A", Environment: "dev"}}); err == nil {
		t.Error("unknown backend accepted")
	}
	if _, err := LoaderSource(plan.Backend{}, []rewrite.Binding{{EnvVar: "A"}}); err == nil {
		t.Error("binding without environment accepted")
	}
	if _, err := LoaderSource(plan.Backend{}, []rewrite.Binding{vaultBinding("dev", "A", "s", "x", ""), vaultBinding("dev", "A", "s", "y", "")}); err == nil {
		t.Error("conflicting bindings accepted")
	}
}

// TestLoaderNodeCheck syntax-checks the loader for every backend.
func TestLoaderNodeCheck(t *testing.T) {
	dir := t.TempDir()
	for i, b := range []plan.Backend{{}, {KVVersion: 1}, {Kind: plan.BackendGCP}, {Kind: plan.BackendAWS}} {
		src, err := LoaderSource(b, []rewrite.Binding{{EnvVar: "A", Environment: "dev"}})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "loader"+string(rune('0'+i))+".cjs")
		if err := os.WriteFile(p, src, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(nodeBin(t), "--check", p).CombinedOutput(); err != nil {
			t.Errorf("%s loader: %v\n%s", b.Kind, err, out)
		}
	}
	p := filepath.Join(dir, LoaderESM)
	if err := os.WriteFile(p, []byte(esmSource), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nodeBin(t), "--check", p).CombinedOutput(); err != nil {
		t.Errorf("esm entry: %v\n%s", err, out)
	}
}

func TestHelperFiles(t *testing.T) {
	bindings := []rewrite.Binding{{EnvVar: "A", Environment: "dev", Target: plan.Target{Name: "a"}}}
	// A rewriter bound to a repo with a nested package writes the loader
	// there and adds the client to that package.json.
	repo := map[string]string{
		"services/api/package.json":  "{\n    \"name\": \"api\",\n    \"dependencies\": {\n        \"express\": \"^4.0.0\"\n    }\n}\n",
		"services/api/tsconfig.json": `{"compilerOptions": {"module": "commonjs"}}`,
	}
	l := forRepo(t, repo)
	if _, n, err := l.Rewrite("services/api/src/a.ts", []byte("export const a = process.env.A;\n"), rewrite.Edit{Keys: keys("A")}); err != nil || n != 1 {
		t.Fatalf("rewrite: %d, %v", n, err)
	}
	files, err := l.Helper(plan.Backend{Kind: plan.BackendAWS, Region: "eu-west-1"}, bindings, repoFiles(repo))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = string(f.Content)
	}
	for _, p := range []string{"services/api/" + LoaderCJS, "services/api/" + LoaderESM, "services/api/" + TypesCJS, "services/api/" + TypesESM} {
		if got[p] == "" {
			t.Errorf("missing %s", p)
		}
	}
	wantPkg := "{\n    \"name\": \"api\",\n    \"dependencies\": {\n        \"express\": \"^4.0.0\",\n        \"@aws-sdk/client-secrets-manager\": \"^3.600.0\"\n    }\n}\n"
	if got["services/api/package.json"] != wantPkg {
		t.Errorf("package.json:\n%s", got["services/api/package.json"])
	}
	// Unbound, Vault: the loader at the root, no declarations, no deps.
	files, err = New().Helper(plan.Backend{}, bindings, repoFiles(nil))
	if err != nil || len(files) != 2 || files[0].Path != LoaderCJS || files[1].Path != LoaderESM {
		t.Errorf("unbound helper: %v, %v", files, err)
	}
	_, err = forRepo(t, nil).Helper(plan.Backend{Kind: plan.BackendGCP}, bindings, func(string) ([]byte, error) { return nil, errors.New("disk on fire") })
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("read error: %v", err)
	}
}

func TestAddDependency(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"append", "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"1\"\n  }\n}\n",
			"{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"pkg\": \"^1\"\n  }\n}\n"},
		{"empty deps", "{\n  \"dependencies\": {}\n}\n", "{\n  \"dependencies\": {\n    \"pkg\": \"^1\"\n  }\n}\n"},
		{"no deps", "{\n  \"name\": \"x\",\n  \"devDependencies\": {\"dependencies\": \"1\"}\n}\n",
			"{\n  \"name\": \"x\",\n  \"devDependencies\": {\"dependencies\": \"1\"},\n  \"dependencies\": {\n    \"pkg\": \"^1\"\n  }\n}\n"},
		{"tabs", "{\n\t\"dependencies\": {\n\t\t\"a\": \"1\"\n\t}\n}", "{\n\t\"dependencies\": {\n\t\t\"a\": \"1\",\n\t\t\"pkg\": \"^1\"\n\t}\n}"},
		{"one line", `{"name":"x"}`, "{\"name\":\"x\",\n  \"dependencies\": {\n    \"pkg\": \"^1\"\n  }}"},
		{"escaped strings", "{\n  \"description\": \"a \\\"quoted\\\" {brace}\",\n  \"dependencies\": {}\n}",
			"{\n  \"description\": \"a \\\"quoted\\\" {brace}\",\n  \"dependencies\": {\n    \"pkg\": \"^1\"\n  }\n}"},
		{"present", "{\"dependencies\": {\"pkg\": \"2\"}}", "{\"dependencies\": {\"pkg\": \"2\"}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := AddDependency([]byte(tt.in), "pkg", "^1")
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
	for _, bad := range []string{"[1]", "{", `{"dependencies": []}`} {
		if _, _, err := AddDependency([]byte(bad), "pkg", "^1"); err == nil {
			t.Errorf("AddDependency(%q) accepted", bad)
		}
	}
}

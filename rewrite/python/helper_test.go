package python

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
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

// probe prints "NAME sha256(value)" for each name, or the exception.
const probe = `import hashlib, sys
import env2vault_secrets as s

for name in sys.argv[1:]:
    try:
        print(name, hashlib.sha256(s.get(name).encode()).hexdigest())
    except KeyError:
        print(name, "KeyError")
    except s.SecretError as err:
        print(name, "SecretError", str(err).replace("\n", " "))
print("DEFAULTED", s.get("NOT_ANYWHERE_AT_ALL", "fallback"))
print("HAS", ",".join(str(s.has(n)) for n in sys.argv[1:]))
`

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

// runHelper writes the helper into a temp folder and runs the probe with
// exactly env (plus PATH). It returns name -> digest or error text.
func runHelper(t *testing.T, helper []byte, env []string, extraFiles map[string]string, names ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{HelperFile: string(helper), "probe.py": probe}
	for k, v := range extraFiles {
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
	cmd := exec.Command(python(t), append([]string{"probe.py"}, names...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "PYTHONDONTWRITEBYTECODE=1"}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// The probe prints digests only, so its output is safe to show.
		t.Fatalf("probe failed: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		got[k] = v
	}
	return got
}

func TestHelperVaultKV2(t *testing.T) {
	token := randomValue(t)
	srv := kvhttptest.New(token)
	defer srv.Close()
	a, bDev, bProd, c := randomValue(t), randomValue(t), randomValue(t), randomValue(t)
	srv.PutV2("secret", "app/dev/a", map[string]string{"value": a})
	srv.PutV2("secret", "app/dev/b", map[string]string{"password": bDev, "other": "x"})
	srv.PutV2("secret", "app/prod/b", map[string]string{"password": bProd})
	helper, err := HelperSource(plan.Backend{Kind: plan.BackendVault, Mount: "secret", KVVersion: 2}, []rewrite.Binding{
		vaultBinding("dev", "A_KEY", "secret", "app/dev/a", ""),
		vaultBinding("dev", "B_KEY", "secret", "app/dev/b", "password"),
		vaultBinding("prod", "B_KEY", "secret", "app/prod/b", "password"),
		vaultBinding("dev", "GONE_KEY", "secret", "app/dev/gone", "value"),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"VAULT_ADDR=" + srv.URL, "VAULT_TOKEN=" + token, "C_KEY=" + c}
	t.Run("dev", func(t *testing.T) {
		got := runHelper(t, helper, base, nil, "A_KEY", "B_KEY", "A_KEY", "C_KEY", "D_KEY", "GONE_KEY")
		want := map[string]string{
			"A_KEY": digest(a), "B_KEY": digest(bDev), "C_KEY": digest(c), "D_KEY": "KeyError",
			"GONE_KEY":  "SecretError reading GONE_KEY for environment 'dev': Vault answered HTTP 404 for secret/app/dev/gone",
			"DEFAULTED": "fallback",
			"HAS":       "True,True,True,True,False,True",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if srv.Reads() != 2 {
			t.Errorf("server answered %d reads, want 2 (A_KEY cached)", srv.Reads())
		}
	})
	t.Run("prod falls back to the environment for unbound names", func(t *testing.T) {
		got := runHelper(t, helper, append(base, "ENV2VAULT_ENV=prod", "A_KEY="+c), nil, "A_KEY", "B_KEY")
		want := map[string]string{"A_KEY": digest(c), "B_KEY": digest(bProd), "DEFAULTED": "fallback", "HAS": "True,True"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("token from ~/.vault-token", func(t *testing.T) {
		got := runHelper(t, helper, []string{"VAULT_ADDR=" + srv.URL}, map[string]string{".vault-token": token + "\n"}, "A_KEY")
		if got["A_KEY"] != digest(a) {
			t.Errorf("A_KEY = %q", got["A_KEY"])
		}
	})
	t.Run("errors name the problem, never the value", func(t *testing.T) {
		got := runHelper(t, helper, []string{"VAULT_ADDR=" + srv.URL, "VAULT_TOKEN=wrong"}, nil, "A_KEY")
		if got["A_KEY"] != "SecretError reading A_KEY for environment 'dev': Vault answered HTTP 403 for secret/app/dev/a" {
			t.Errorf("A_KEY = %q", got["A_KEY"])
		}
		got = runHelper(t, helper, []string{"VAULT_TOKEN=" + token}, nil, "A_KEY")
		if !strings.Contains(got["A_KEY"], "set VAULT_ADDR") {
			t.Errorf("A_KEY = %q", got["A_KEY"])
		}
		got = runHelper(t, helper, []string{"VAULT_ADDR=" + srv.URL}, nil, "A_KEY")
		if !strings.Contains(got["A_KEY"], "set VAULT_TOKEN") {
			t.Errorf("A_KEY = %q", got["A_KEY"])
		}
	})
}

func TestHelperVaultKV1NamespaceTLS(t *testing.T) {
	token := randomValue(t)
	srv := kvhttptest.NewTLS(token)
	defer srv.Close()
	srv.Namespace = "team-ml"
	v := randomValue(t)
	srv.PutV1("kv", "ml/dev/hf", map[string]string{"value": v})
	ca, err := srv.WriteCACert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	helper, err := HelperSource(plan.Backend{Kind: plan.BackendVault, Mount: "kv", KVVersion: 1}, []rewrite.Binding{
		vaultBinding("dev", "HF_TOKEN", "kv", "ml/dev/hf", "value"),
	})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"VAULT_ADDR=" + srv.URL, "VAULT_TOKEN=" + token, "VAULT_NAMESPACE=team-ml", "VAULT_CACERT=" + ca}
	if got := runHelper(t, helper, env, nil, "HF_TOKEN"); got["HF_TOKEN"] != digest(v) {
		t.Errorf("HF_TOKEN = %q", got["HF_TOKEN"])
	}
	// Without the CA the certificate is refused.
	got := runHelper(t, helper, env[:3], nil, "HF_TOKEN")
	if !strings.HasPrefix(got["HF_TOKEN"], "SecretError") || !strings.Contains(got["HF_TOKEN"], "CERTIFICATE_VERIFY_FAILED") {
		t.Errorf("HF_TOKEN without CA = %q", got["HF_TOKEN"])
	}
}

// TestHelperRealVault reads through a real Vault dev server (see
// scripts/vault-dev), KV v2 and KV v1.
func TestHelperRealVault(t *testing.T) {
	e := vaulttest.Server(t)
	ctx := context.Background()
	v2, v1 := randomValue(t), randomValue(t)
	if _, err := e.Client.KVv2(e.KV2).Put(ctx, "ml-service/dev/anthropic", map[string]any{"value": v2}); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.KVv1(e.KV1).Put(ctx, "ml-service/dev/openai", map[string]any{"key": v1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kv      int
		binding rewrite.Binding
		want    string
	}{
		{2, vaultBinding("dev", "ANTHROPIC_API_KEY", e.KV2, "ml-service/dev/anthropic", "value"), v2},
		{1, vaultBinding("dev", "OPENAI_API_KEY", e.KV1, "ml-service/dev/openai", "key"), v1},
	} {
		helper, err := HelperSource(plan.Backend{Kind: plan.BackendVault, KVVersion: tc.kv}, []rewrite.Binding{tc.binding})
		if err != nil {
			t.Fatal(err)
		}
		got := runHelper(t, helper, e.Vars(), nil, tc.binding.EnvVar)
		if got[tc.binding.EnvVar] != digest(tc.want) {
			t.Errorf("KV v%d: %s = %q, want the stored value's digest", tc.kv, tc.binding.EnvVar, got[tc.binding.EnvVar])
		}
	}
}

// Stand-in client libraries with the same call shapes as
// google-cloud-secret-manager and boto3, serving values from environment
// variables FAKE_<secret>.
var fakeLibs = map[string]string{
	"google/__init__.py":       "",
	"google/cloud/__init__.py": "",
	"google/cloud/secretmanager.py": `import os, types
class SecretManagerServiceClient:
    def access_secret_version(self, request, timeout=None):
        name = request["name"]
        assert name.endswith("/versions/latest"), name
        secret = name.split("/")[3]
        data = os.environ["FAKE_" + secret].encode()
        return types.SimpleNamespace(payload=types.SimpleNamespace(data=data))
`,
	"boto3.py": `import os
class _Client:
    def __init__(self, region):
        self.region = region
    def get_secret_value(self, SecretId):
        if SecretId == "missing":
            raise LookupError("ResourceNotFoundException")
        return {"SecretString": os.environ["FAKE_" + SecretId.replace("/", "_")]}
def client(service, region_name=None):
    assert service == "secretsmanager" and region_name == "eu-west-1", (service, region_name)
    return _Client(region_name)
`,
}

func TestHelperGCPAndAWS(t *testing.T) {
	v := randomValue(t)
	gcp, err := HelperSource(plan.Backend{Kind: plan.BackendGCP, Project: "p1"}, []rewrite.Binding{
		{EnvVar: "HF_TOKEN", Environment: "dev", Target: plan.Target{Project: "p1", SecretID: "hf-token"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := runHelper(t, gcp, []string{"FAKE_hf-token=" + v}, fakeLibs, "HF_TOKEN")
	if got["HF_TOKEN"] != digest(v) {
		t.Errorf("gcp HF_TOKEN = %q", got["HF_TOKEN"])
	}
	aws, err := HelperSource(plan.Backend{Kind: plan.BackendAWS, Region: "eu-west-1"}, []rewrite.Binding{
		{EnvVar: "HF_TOKEN", Environment: "dev", Target: plan.Target{Name: "ml/hf"}},
		{EnvVar: "GONE", Environment: "dev", Target: plan.Target{Name: "missing"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got = runHelper(t, aws, []string{"FAKE_ml_hf=" + v}, fakeLibs, "HF_TOKEN", "GONE")
	if got["HF_TOKEN"] != digest(v) {
		t.Errorf("aws HF_TOKEN = %q", got["HF_TOKEN"])
	}
	if !strings.HasPrefix(got["GONE"], "SecretError reading GONE for environment 'dev': Secrets Manager missing: LookupError") {
		t.Errorf("aws GONE = %q", got["GONE"])
	}
}

func TestHelperErrors(t *testing.T) {
	if _, err := HelperSource(plan.Backend{Kind: "azure"}, []rewrite.Binding{{EnvVar: "A", Environment: "dev"}}); err == nil {
		t.Error("unknown backend accepted")
	}
	if _, err := HelperSource(plan.Backend{}, []rewrite.Binding{{EnvVar: "A"}}); err == nil {
		t.Error("binding without environment accepted")
	}
	_, err := HelperSource(plan.Backend{}, []rewrite.Binding{
		vaultBinding("dev", "A", "secret", "x", "value"), vaultBinding("dev", "A", "secret", "y", "value"),
	})
	if err == nil {
		t.Error("conflicting bindings accepted")
	}
}

func TestHelperFiles(t *testing.T) {
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if v, ok := m[p]; ok {
				return []byte(v), nil
			}
			return nil, fs.ErrNotExist
		}
	}
	bindings := []rewrite.Binding{{EnvVar: "A", Environment: "dev", Target: plan.Target{Name: "a", Project: "p", SecretID: "a"}}}
	tests := []struct {
		name    string
		backend string
		repo    map[string]string
		want    map[string]string // extra files besides the helper
	}{
		{"vault needs nothing", plan.BackendVault, map[string]string{"requirements.txt": "flask\n"}, map[string]string{}},
		{"requirements appended", plan.BackendAWS, map[string]string{"requirements.txt": "flask==3.0\nrequests"},
			map[string]string{"requirements.txt": "flask==3.0\nrequests\nboto3>=1.34\n"}},
		{"requirements already there", plan.BackendAWS, map[string]string{"requirements.txt": "Boto3==1.30\n"}, map[string]string{}},
		{"requirements created", plan.BackendGCP, map[string]string{},
			map[string]string{"requirements.txt": "google-cloud-secret-manager>=2.20\n"}},
		{"pyproject one line", plan.BackendAWS, map[string]string{"pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\"flask\"]\n\n[tool.x]\na = 1\n"},
			map[string]string{"pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\"flask\", \"boto3>=1.34\"]\n\n[tool.x]\na = 1\n"}},
		{"pyproject empty list", plan.BackendAWS, map[string]string{"pyproject.toml": "[project]\ndependencies = []\n"},
			map[string]string{"pyproject.toml": "[project]\ndependencies = [\"boto3>=1.34\"]\n"}},
		{"pyproject multi line", plan.BackendGCP, map[string]string{"pyproject.toml": "[project]\ndependencies = [\n    \"flask\",\n    \"requests\"\n]\n"},
			map[string]string{"pyproject.toml": "[project]\ndependencies = [\n    \"flask\",\n    \"requests\",\n    \"google-cloud-secret-manager>=2.20\",\n]\n"}},
		{"pyproject listed", plan.BackendGCP, map[string]string{"pyproject.toml": "[project]\ndependencies = [\n  \"google_cloud_secret_manager~=2.0\",\n]\n"}, map[string]string{}},
		{"poetry", plan.BackendAWS, map[string]string{"pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.11\"\n\n[build-system]\nrequires = []\n"},
			map[string]string{"pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.11\"\nboto3 = \">=1.34\"\n\n[build-system]\nrequires = []\n"}},
		{"pyproject without dependencies", plan.BackendAWS, map[string]string{"pyproject.toml": "[tool.black]\nline-length = 100\n"},
			map[string]string{"requirements.txt": "boto3>=1.34\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := New().Helper(plan.Backend{Kind: tt.backend, Region: "eu-west-1"}, bindings, files(tt.repo))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) == 0 || out[0].Path != HelperFile {
				t.Fatalf("first file = %+v, want the helper", out)
			}
			got := map[string]string{}
			for _, f := range out[1:] {
				got[f.Path] = string(f.Content)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	_, err := New().Helper(plan.Backend{Kind: plan.BackendAWS}, bindings, func(string) ([]byte, error) { return nil, errors.New("disk on fire") })
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("read error: got %v", err)
	}
}

// TestHelperCompiles byte-compiles the helper for every backend.
func TestHelperCompiles(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []plan.Backend{{Kind: plan.BackendVault}, {Kind: plan.BackendVault, KVVersion: 1}, {Kind: plan.BackendGCP}, {Kind: plan.BackendAWS}, {Kind: plan.BackendVault}} {
		src, err := HelperSource(b, []rewrite.Binding{{EnvVar: "A", Environment: "dev", Target: plan.Target{Mount: "m", Path: "p", Name: "n", Project: "p", SecretID: "s"}}})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "h.py")
		if err := os.WriteFile(p, src, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(python(t), "-m", "py_compile", p).CombinedOutput(); err != nil {
			t.Errorf("%s helper does not compile: %v\n%s\n%s", b.Kind, err, out, src)
		}
	}
	// No bindings at all still compiles.
	src, err := HelperSource(plan.Backend{}, nil)
	if err != nil || !strings.Contains(string(src), "BINDINGS = {\n}") {
		t.Errorf("empty helper: %v\n%s", err, src)
	}
}

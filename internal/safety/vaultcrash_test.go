package safety

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/env2vault/env2vault/internal/sampleorg"
	"github.com/env2vault/env2vault/internal/vaulttest"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// crashProxy forwards requests to a Vault server and kills the server at
// the killAt-th write under /v1/<mount>/: either before forwarding it
// ("before": the write never lands) or after Vault answered it ("after":
// the write landed, the response is lost and the connection dropped).
type crashProxy struct {
	target *url.URL
	mount  string
	kill   func()

	mu     sync.Mutex
	writes int
	killAt int
	mode   string
	fired  chan struct{}
}

func (p *crashProxy) arm(killAt int, mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes, p.killAt, p.mode = 0, killAt, mode
	p.fired = make(chan struct{})
}

func (p *crashProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "proxy: reading the request: "+err.Error(), http.StatusBadGateway)
		return
	}
	fire := false
	mode := ""
	if r.Method != http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/"+p.mount+"/") {
		p.mu.Lock()
		p.writes++
		if p.writes == p.killAt {
			fire, mode = true, p.mode
		}
		p.mu.Unlock()
	}
	if fire && mode == "before" {
		p.kill()
		close(p.fired)
		http.Error(w, "proxy: the Vault server is down", http.StatusBadGateway)
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target.String()+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, "proxy: the Vault server is down", http.StatusBadGateway)
		if fire {
			p.kill()
			close(p.fired)
		}
		return
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if fire { // "after": the write landed; lose the answer
		p.kill()
		close(p.fired)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		http.Error(w, "proxy: connection lost", http.StatusBadGateway)
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

// crashSeed returns the base seed: ENV2VAULT_SAFETY_SEED to replay a
// failure, else the clock.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv("ENV2VAULT_SAFETY_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ENV2VAULT_SAFETY_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// startChild runs the test binary as `env2vault args...` with extra
// environment variables.
func startChild(t *testing.T, extraEnv []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer, chan error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(args)
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=env2vault", argsEnv + "=" + string(a)}, extraEnv...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})
	return cmd, &stdout, &stderr, done
}

// TestVaultKilledMidMigrate migrates the sample org's plan through a
// proxy that SIGKILLs a file-backed Vault server at a random write —
// before it lands, or after it landed with the answer lost — in several
// rounds with different seeds (each logged; ENV2VAULT_SAFETY_SEED
// replays one). Sometimes the migrating process dies with the server.
// The server restarts after a random pause with its data, and migrate
// is rerun until it succeeds. Then every secret has exactly one version
// holding the planned value (by fingerprint), the journal's last run
// verified every secret, and no value reached an output or the journal.
func TestVaultKilledMidMigrate(t *testing.T) {
	rounds := 6
	if testing.Short() {
		rounds = 3
	}
	sb := newSandbox(t)
	srv := vaulttest.Start(t, vaulttest.Options{FileStorage: true})
	ctx := context.Background()
	m, err := sampleorg.Build(ctx, filepath.Join(sb.base, "org"))
	if err != nil {
		t.Fatal(err)
	}
	c := newCanary(m)
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(srv.Addr)
	proxy := &crashProxy{target: target, kill: srv.Kill}
	front := httptest.NewServer(proxy)
	defer front.Close()
	t.Setenv("VAULT_ADDR", front.URL)
	t.Setenv("VAULT_TOKEN", srv.Token)
	t.Setenv("VAULT_CACERT", "")

	base := crashSeed(t)
	for round := range rounds {
		seed := base + uint64(round)
		rng := rand.New(rand.NewPCG(seed, 0xc4a54))
		mount := vaulttest.Mount(t, srv.Client(), 2)
		proxy.mount = mount
		dir := filepath.Join(sb.out, fmt.Sprintf("round%d", round))
		planFile := filepath.Join(dir, "plan.yaml")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if r := execute(t, "plan", "--offline", "--no-history", "--vault-mount", mount, "-o", planFile, m.Dir); r.code != 1 {
			t.Fatalf("round %d: %s", round, r.show(c))
		}
		p, err := plan.Load(planFile)
		if err != nil {
			t.Fatal(err)
		}
		// Each secret takes a data write and a metadata write.
		killAt := 1 + rng.IntN(2*len(p.Secrets))
		mode := []string{"before", "after"}[rng.IntN(2)]
		// The outage, each kind in turn (consecutive seeds): the migrating process keeps
		// retrying until the server is back after a short pause ("short"),
		// dies with the server ("crash"), is interrupted (SIGINT) while
		// the server is down ("interrupt"), or gives up retrying before
		// the server is back ("long", the slowest).
		outage := []string{"short", "crash", "interrupt", "long"}[seed%4]
		pause := time.Duration(rng.IntN(2000)) * time.Millisecond
		t.Logf("round %d: seed %d (ENV2VAULT_SAFETY_SEED=%d replays from here): kill Vault at write %d (of about %d) %s it lands; %s outage, restart after %v",
			round, seed, seed, killAt, 2*len(p.Secrets), mode, outage, pause)
		proxy.arm(killAt, mode)

		var outputs []string
		cmd, stdout, stderr, done := startChild(t, nil, "migrate", "--plan", planFile, "--yes", "--concurrency", "4")
		var exitErr error
		select {
		case <-proxy.fired:
			switch outage {
			case "crash":
				cmd.Process.Kill()
				exitErr = <-done
				time.Sleep(pause)
				srv.Restart()
			case "interrupt":
				time.Sleep(pause)
				cmd.Process.Signal(os.Interrupt)
				exitErr = <-done
				srv.Restart()
			case "long":
				exitErr = <-done
				srv.Restart()
			default:
				time.Sleep(pause)
				srv.Restart()
				exitErr = <-done
			}
		case exitErr = <-done:
			t.Fatalf("round %d: migrate finished without reaching write %d: %v\n%s", round, killAt, exitErr, c.redact(stderr.String()))
		}
		outputs = append(outputs, stdout.String(), stderr.String())
		t.Logf("round %d: first run ended: %v", round, exitErr)

		ok := exitErr == nil
		for attempt := 0; !ok; attempt++ {
			if attempt == 5 {
				t.Fatalf("round %d: migrate still fails after %d reruns:\n%s", round, attempt, c.redact(strings.Join(outputs, "\n")))
			}
			_, stdout, stderr, done := startChild(t, nil, "migrate", "--plan", planFile, "--yes", "--concurrency", "4", "--format", "json")
			err := <-done
			outputs = append(outputs, stdout.String(), stderr.String())
			ok = err == nil
			t.Logf("round %d: rerun %d: %v", round, attempt+1, err)
		}

		proxy.mu.Lock()
		t.Logf("round %d: %d writes through the proxy", round, proxy.writes)
		proxy.mu.Unlock()

		// Exactly one version per secret, holding the planned value.
		client := srv.Client()
		for _, s := range p.Secrets {
			md, err := client.KVv2(mount).GetMetadata(ctx, s.Target.Path)
			if err != nil {
				t.Errorf("round %d: %s: %v", round, s.Name, err)
				continue
			}
			if md.CurrentVersion != 1 || len(md.Versions) != 1 {
				t.Errorf("round %d: %s has current version %d and %d versions, want exactly one", round, s.Name, md.CurrentVersion, len(md.Versions))
			}
			kv, err := client.KVv2(mount).Get(ctx, s.Target.Path)
			if err != nil {
				t.Errorf("round %d: %s: %v", round, s.Name, err)
				continue
			}
			v, _ := kv.Data[s.Target.Field].(string)
			if !fp.Matches(secret.New(v), s.Fingerprint) {
				t.Errorf("round %d: %s holds another value than planned", round, s.Name)
			}
		}
		checkJournal(t, round, migrate.JournalPath(planFile), p)
		jb, _ := os.ReadFile(migrate.JournalPath(planFile))
		c.check(t, fmt.Sprintf("round %d journal", round), jb)
		c.check(t, fmt.Sprintf("round %d migrate output", round), []byte(strings.Join(outputs, "\n")))
	}
}

// checkJournal checks a journal after a successful run: it parses, the
// last run started and finished, verified or found in place (no-op)
// every planned secret, and no entry anywhere names a version other
// than 1.
func checkJournal(t *testing.T, round int, path string, p *plan.Plan) {
	t.Helper()
	entries, err := migrate.ReadJournal(path)
	if err != nil {
		t.Fatalf("round %d: reading the journal: %v", round, err)
	}
	last := ""
	for _, e := range entries {
		if e.State == migrate.StateRunStarted {
			last = e.Run
		}
		if e.Version != "" && e.Version != "1" {
			t.Errorf("round %d: the journal records version %s of %s", round, e.Version, e.Secret)
		}
		if e.PlanID != p.ID {
			t.Errorf("round %d: a journal entry names plan %s, want %s", round, e.PlanID, p.ID)
		}
	}
	done := map[string]string{}
	finished := false
	for _, e := range entries {
		if e.Run != last {
			continue
		}
		switch e.State {
		case migrate.StateVerified, migrate.StateNoop:
			done[e.Secret] = e.State
		case migrate.StateConflict, migrate.StateFailed:
			t.Errorf("round %d: the last run recorded %s for %s: %s", round, e.State, e.Secret, e.Error)
		case migrate.StateRunFinished:
			finished = true
		}
	}
	if !finished {
		t.Errorf("round %d: the journal's last run never finished", round)
	}
	for _, s := range p.Secrets {
		if done[s.Name] == "" {
			t.Errorf("round %d: the journal's last run did not verify %s", round, s.Name)
		}
	}
}

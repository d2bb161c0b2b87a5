package vaulttest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Options configure a private dev server.
type Options struct {
	// TLS serves https with a CA generated into the test's temp folder
	// (Proc.CACert).
	TLS bool
	// FileStorage runs a real (non-dev) server on file storage in the
	// test's temp folder instead of a dev server: its data survives Kill
	// and Restart. The server is initialised once with a single unseal key
	// (Proc.Token is the root token init returned), unsealed after every
	// start, and gets a KV v2 mount at secret/ and a KV v1 mount at kv1/.
	// TLS is not supported with FileStorage.
	FileStorage bool
}

// Proc is a private Vault server process owned by one test, for fault
// injection: Kill it to simulate an outage, Restart it to bring it back on
// the same address with the same token. A dev server keeps its data in
// memory, so a restart starts empty (with the same mounts); a server
// started with Options.FileStorage keeps its data across restarts.
type Proc struct {
	// Addr, Token and CACert reach the server.
	Addr, Token, CACert string
	// KV2 ("secret") and KV1 ("kv1") are the server's KV mounts.
	KV2, KV1 string

	t    testing.TB
	bin  string
	dir  string
	port int
	opts Options

	unsealKey string // FileStorage: the single unseal key
	mounted   bool   // FileStorage: the KV mounts exist

	mu   sync.Mutex
	proc *os.Process
	done chan struct{} // closed when proc has exited
}

// Start runs a new server for t from the cached binary (see Binary) — a
// dev server, or with opts.FileStorage a file-backed one — and stops it
// when the test ends. Without a binary it skips, or fails
// when ENV2VAULT_REQUIRE_VAULT is set.
func Start(t testing.TB, opts Options) *Proc {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		missing(t, err.Error())
	}
	if opts.FileStorage && opts.TLS {
		t.Fatal("vaulttest: FileStorage does not support TLS")
	}
	p := &Proc{
		Token: "dev-" + randomHex(12),
		KV2:   "secret",
		KV1:   "kv1",
		t:     t,
		bin:   bin,
		dir:   t.TempDir(),
		opts:  opts,
	}
	t.Cleanup(p.Kill)
	var lastErr error
	for range 5 {
		if p.port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = p.start(); lastErr == nil {
			return p
		}
	}
	t.Fatalf("starting a Vault dev server: %v", lastErr)
	return nil
}

// Vars returns VAULT_ADDR, VAULT_TOKEN and (for TLS) VAULT_CACERT.
func (p *Proc) Vars() []string {
	e := Env{Addr: p.Addr, Token: p.Token, CACert: p.CACert}
	return e.Vars()
}

// Client returns a new root client for the server (no retries). After a
// TLS server restarts its CA is new, so take a fresh client.
func (p *Proc) Client() *api.Client {
	p.t.Helper()
	c, err := NewClient(p.Addr, p.Token, p.CACert)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// Kill stops the server at once (SIGKILL) and waits for it to exit. It
// is safe to call more than once.
func (p *Proc) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	_ = p.proc.Kill()
	<-p.done
	p.proc, p.done = nil, nil
}

// Running reports whether the server process is up.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Restart kills the server if it runs and starts a new one on the same
// address with the same token. A dev server's storage starts empty; a
// FileStorage server keeps its data and is unsealed again.
func (p *Proc) Restart() {
	p.t.Helper()
	p.Kill()
	var err error
	for range 20 { // the old socket may linger for a moment
		if err = p.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("restarting the Vault dev server: %v", err)
}

// LogFile returns the path of the server's log.
func (p *Proc) LogFile() string { return filepath.Join(p.dir, "vault.log") }

func (p *Proc) start() error {
	if p.opts.FileStorage {
		return p.startFile()
	}
	scheme := "http"
	args := []string{"server", "-dev", "-dev-no-store-token",
		"-dev-root-token-id=" + p.Token,
		"-dev-listen-address=127.0.0.1:" + strconv.Itoa(p.port)}
	if p.opts.TLS {
		scheme = "https"
		certs := filepath.Join(p.dir, "tls")
		if err := os.MkdirAll(certs, 0o700); err != nil {
			return err
		}
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+certs)
		p.CACert = filepath.Join(certs, "vault-ca.pem")
		_ = os.Remove(p.CACert)
	}
	p.Addr = fmt.Sprintf("%s://127.0.0.1:%d", scheme, p.port)
	return p.run(args, p.waitReady)
}

// run starts the server with args and waits with ready until it serves.
func (p *Proc) run(args []string, ready func(exited chan error) error) error {
	log, err := os.OpenFile(p.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(p.bin, args...)
	// A private HOME keeps the server and CLI away from ~/.vault-token.
	cmd.Env = append(os.Environ(), "HOME="+p.dir, "VAULT_ADDR=", "VAULT_TOKEN=")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", p.bin, err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	if err := ready(exited); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return err
	}
	p.mu.Lock()
	p.proc, p.done = cmd.Process, done
	p.mu.Unlock()
	return nil
}

func (p *Proc) waitReady(exited chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(p.LogFile())
			return fmt.Errorf("the Vault dev server exited (%v): %s", err, tail(b, 800))
		case <-ctx.Done():
			return errors.New("the Vault dev server did not become healthy within a minute")
		case <-time.After(100 * time.Millisecond):
		}
		if p.CACert != "" {
			if _, err := os.Stat(p.CACert); err != nil {
				continue
			}
		}
		c, err := NewClient(p.Addr, p.Token, p.CACert)
		if err != nil {
			continue
		}
		h, err := c.Sys().HealthWithContext(ctx)
		if err != nil || !h.Initialized || h.Sealed {
			continue
		}
		if err := c.Sys().MountWithContext(ctx, p.KV1, &api.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
			return fmt.Errorf("enabling the kv1 mount: %w", err)
		}
		if err := WaitWritable(ctx, c, p.KV2, 2); err != nil {
			return err
		}
		return nil
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if port == 8200 || port == 8201 {
		return 0, errors.New("got the default Vault port")
	}
	return port, nil
}

// startFile starts a file-backed server: it writes the config (file
// storage under the test's folder, a plain-http loopback listener), runs
// the server, initialises it on the first start, and unseals it.
func (p *Proc) startFile() error {
	data := filepath.Join(p.dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	p.Addr = fmt.Sprintf("http://127.0.0.1:%d", p.port)
	config := fmt.Sprintf(`storage "file" {
  path = %q
}
listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
api_addr      = %q
disable_mlock = true
ui            = false
`, data, p.port, p.Addr)
	file := filepath.Join(p.dir, "vault.hcl")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		return err
	}
	return p.run([]string{"server", "-config=" + file}, p.waitUnsealed)
}

// waitUnsealed waits for a file-backed server to answer, initialises it
// the first time (one key share), unseals it, mounts the KV engines the
// first time, and waits until the KV v2 mount takes writes.
func (p *Proc) waitUnsealed(exited chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(p.LogFile())
			return fmt.Errorf("the Vault server exited (%v): %s", err, tail(b, 800))
		case <-ctx.Done():
			return errors.New("the Vault server did not become healthy within a minute")
		case <-time.After(100 * time.Millisecond):
		}
		c, err := NewClient(p.Addr, "", "")
		if err != nil {
			continue
		}
		h, err := c.Sys().HealthWithContext(ctx)
		if err != nil {
			continue
		}
		if !h.Initialized {
			if p.unsealKey != "" {
				return errors.New("the Vault server lost its storage: it is not initialised any more")
			}
			init, err := c.Sys().InitWithContext(ctx, &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
			if err != nil {
				return fmt.Errorf("initialising the Vault server: %w", err)
			}
			if len(init.KeysB64) != 1 || init.RootToken == "" {
				return errors.New("initialising the Vault server returned no key or no root token")
			}
			p.unsealKey, p.Token = init.KeysB64[0], init.RootToken
			h.Sealed = true
		}
		if h.Sealed {
			st, err := c.Sys().UnsealWithContext(ctx, p.unsealKey)
			if err != nil {
				return fmt.Errorf("unsealing the Vault server: %w", err)
			}
			if st.Sealed {
				return errors.New("the Vault server is still sealed after unsealing")
			}
		}
		c.SetToken(p.Token)
		if !p.mounted {
			if err := p.mountKV(ctx, c); err != nil {
				return err
			}
			p.mounted = true
		}
		return WaitWritable(ctx, c, p.KV2, 2)
	}
}

// mountKV enables secret/ (KV v2) and kv1/ (KV v1) on a file-backed
// server, retrying while the freshly unsealed node becomes active.
func (p *Proc) mountKV(ctx context.Context, c *api.Client) error {
	for _, m := range []struct {
		path, version string
	}{{p.KV2, "2"}, {p.KV1, "1"}} {
		for {
			err := c.Sys().MountWithContext(ctx, m.path, &api.MountInput{Type: "kv", Options: map[string]string{"version": m.version}})
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("enabling the %s mount: %w", m.path, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

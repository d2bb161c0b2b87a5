package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/cliconfig"

	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// ErrUnexpectedValue reports that a target holds something env2vault
// cannot compare with a planned value (e.g. a KV field that is not text).
var ErrUnexpectedValue = errors.New("the target holds a value that is not text")

// vaultBackend stores secrets in a HashiCorp Vault KV v2 or KV v1 mount.
//
// Retries: the api client's own retries are switched off (MaxRetries 0,
// whatever VAULT_MAX_RETRIES says). A transport-level retry of a
// check-and-set write whose first attempt was applied but whose answer
// was lost would fail its check-and-set and look like a conflict. Instead
// the backend reports throttling, 5xx answers and network failures as
// *TransientError (with the server's Retry-After), and Run retries the
// whole read-decide-write-verify step, which sees its own earlier write
// as already done.
type vaultBackend struct {
	c     *api.Client
	addr  string
	kv    int
	mount string
}

// openVault connects to the Vault that VAULT_ADDR (and VAULT_CACERT,
// VAULT_CLIENT_CERT, VAULT_NAMESPACE, ...) names, with the token from
// VAULT_TOKEN or, like the vault CLI, from the configured token helper
// (~/.vault-token by default).
func openVault(ctx context.Context, b plan.Backend, opts Options) (Backend, error) {
	kv := b.KVVersion
	switch kv {
	case 0:
		kv = 2
	case 1, 2:
	default:
		return nil, fmt.Errorf("the plan's backend.kv_version is %d: Vault KV is version 1 or 2", kv)
	}
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("reading the Vault settings from the environment (VAULT_CACERT, VAULT_CLIENT_CERT, ...): %w", cfg.Error)
	}
	if err := checkVaultAddr(cfg.Address, opts.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	cfg.MaxRetries = 0
	hc := cfg.HttpClient
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		hc = &c
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &hintTransport{base: base}
	cfg.HttpClient = hc

	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("setting up the Vault client: %w", err)
	}
	if c.Token() == "" {
		tok, where, err := helperToken()
		if err != nil {
			return nil, err
		}
		if tok == "" {
			return nil, fmt.Errorf("no Vault token: VAULT_TOKEN is unset and %s holds none; run `vault login` or set VAULT_TOKEN", where)
		}
		c.SetToken(tok)
	}
	mount := strings.Trim(b.Mount, "/")
	if mount == "" {
		mount = plan.DefaultVaultMount
	}
	return &vaultBackend{c: c, addr: cfg.Address, kv: kv, mount: mount}, nil
}

// helperToken reads the token the vault CLI would use: from the
// token_helper configured in ~/.vault (VAULT_CONFIG_PATH), else
// ~/.vault-token. It also says where it looked.
func helperToken() (tok, where string, err error) {
	h, err := cliconfig.DefaultTokenHelper()
	if err != nil {
		return "", "", fmt.Errorf("reading the Vault CLI configuration for a token helper: %w", err)
	}
	tok, err = h.Get()
	if err != nil {
		return "", "", fmt.Errorf("asking the Vault token helper %s for a token: %w", h.Path(), err)
	}
	return strings.TrimSpace(tok), h.Path(), nil
}

// checkVaultAddr refuses to send a token over plain http:// to anything
// but this machine, unless allowed.
func checkVaultAddr(addr string, allowHTTP bool) error {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" && u.Scheme != "unix" {
		return fmt.Errorf("VAULT_ADDR %q is not a URL like https://vault.example.com:8200", addr)
	}
	switch u.Scheme {
	case "https", "unix":
		return nil
	case "http":
		if allowHTTP || cloudIsLoopback(u.Host) {
			return nil
		}
		return fmt.Errorf("refusing to send the Vault token over plain http:// to %s: use https://, or pass --insecure-http if this network is trusted", u.Host)
	default:
		return fmt.Errorf("VAULT_ADDR %q: unsupported scheme %q (want https:// or http://)", addr, u.Scheme)
	}
}

func (v *vaultBackend) Kind() string { return plan.BackendVault }

// Check looks the token up (reachability and authentication) and checks
// that the mount exists with the planned KV version where the token may
// see it.
func (v *vaultBackend) Check(ctx context.Context) error {
	var h hint
	_, err := v.c.Auth().Token().LookupSelfWithContext(h.with(ctx))
	if err != nil {
		return v.wrap(err, &h, "checking the Vault token")
	}
	// The same endpoint the vault CLI uses to learn a mount's KV version;
	// a token without access to it is not an error here.
	s, err := v.c.Logical().ReadWithContext(h.with(ctx), "sys/internal/ui/mounts/"+v.mount)
	var re *api.ResponseError
	switch {
	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
		// Vault answers 403 both for a missing mount and for a token
		// that may not look mounts up: reading a path tells them apart
		// (a missing mount has no handler; a denied read is fine here).
		_, _, err := v.read(ctx, plan.Target{Path: ".env2vault-check"}, 0)
		if err != nil && !errors.As(err, &re) {
			return err
		}
		return nil
	case err != nil:
		return v.wrap(err, &h, "looking up the mount "+v.mount+"/")
	case s == nil || s.Data == nil:
		return v.noMount(v.mount)
	}
	typ, _ := s.Data["type"].(string)
	if typ != "kv" && typ != "generic" {
		return fmt.Errorf("the secrets engine at %s/ is %q, not kv", v.mount, typ)
	}
	got := 1
	if o, ok := s.Data["options"].(map[string]any); ok && o["version"] == "2" {
		got = 2
	}
	if got != v.kv {
		return fmt.Errorf("the mount %s/ is KV v%d but the plan says kv_version %d: fix backend.kv_version in the plan", v.mount, got, v.kv)
	}
	return nil
}

func (v *vaultBackend) mountOf(t plan.Target) string {
	if m := strings.Trim(t.Mount, "/"); m != "" {
		return m
	}
	return v.mount
}

func fieldOf(t plan.Target) string {
	if t.Field == "" {
		return "value"
	}
	return t.Field
}

// where names a target in messages: mount/path#field.
func (v *vaultBackend) where(t plan.Target) string {
	return v.mountOf(t) + "/" + strings.Trim(t.Path, "/") + "#" + fieldOf(t)
}

func (v *vaultBackend) Get(ctx context.Context, t plan.Target) (Current, error) {
	if err := checkTarget(t); err != nil {
		return Current{}, err
	}
	data, version, err := v.read(ctx, t, 0)
	if err != nil {
		return Current{}, err
	}
	return currentOf(v.where(t), data, fieldOf(t), version)
}

func currentOf(where string, data map[string]any, field, version string) (Current, error) {
	cur := Current{Version: version}
	raw, ok := data[field]
	if !ok || raw == nil {
		return cur, nil
	}
	s, ok := raw.(string)
	if !ok {
		return Current{}, fmt.Errorf("%s holds a %s, not text: %w", where, jsonKind(raw), ErrUnexpectedValue)
	}
	cur.Exists = true
	cur.Value = secret.New(s)
	return cur, nil
}

func jsonKind(x any) string {
	switch x.(type) {
	case bool:
		return "boolean"
	case map[string]any:
		return "JSON object"
	case []any:
		return "JSON list"
	default:
		return "number"
	}
}

func checkTarget(t plan.Target) error {
	p := strings.Trim(t.Path, "/")
	if p == "" {
		return errors.New("the plan has a Vault target without a path")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("the Vault target path %q has an empty, . or .. segment", t.Path)
		}
	}
	return nil
}

// read returns the whole data map at t's path and, for KV v2, its
// version (version 0 = latest). For KV v2 a path whose versions are all
// deleted or destroyed reads as no data with the current version, so a
// check-and-set write can follow.
func (v *vaultBackend) read(ctx context.Context, t plan.Target, version int) (map[string]any, string, error) {
	mount, path := v.mountOf(t), strings.Trim(t.Path, "/")
	if v.kv == 1 {
		s, err := v.rawRead(ctx, mount, mount+"/"+path, nil, "reading "+v.where(t))
		if err != nil || s == nil {
			return nil, "", err
		}
		return s.Data, "", nil
	}
	var q map[string][]string
	if version > 0 {
		q = map[string][]string{"version": {strconv.Itoa(version)}}
	}
	s, err := v.rawRead(ctx, mount, mount+"/data/"+path, q, "reading "+v.where(t))
	if err != nil || s == nil || s.Data == nil {
		return nil, "", err
	}
	data, _ := s.Data["data"].(map[string]any)
	ver := ""
	if md, ok := s.Data["metadata"].(map[string]any); ok {
		if n, ok := md["version"].(json.Number); ok && n.String() != "0" {
			ver = n.String()
		}
	}
	return data, ver, nil
}

// rawRead reads a logical path, telling a missing secret (nil, nil)
// from a missing mount (an error). A KV v2 404 can still carry the
// metadata of a deleted version, which is returned.
func (v *vaultBackend) rawRead(ctx context.Context, mount, path string, query map[string][]string, doing string) (*api.Secret, error) {
	var h hint
	resp, err := v.c.Logical().ReadRawWithDataWithContext(h.with(ctx), path, query)
	if resp != nil {
		defer resp.Body.Close()
	}
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		if mentions(re, "no handler for route") {
			return nil, v.noMount(mount)
		}
		if resp == nil {
			return nil, nil
		}
		s, perr := api.ParseSecret(resp.Body)
		if perr != nil || s == nil {
			return nil, nil
		}
		return s, nil
	}
	if err != nil {
		return nil, v.wrap(err, &h, doing)
	}
	if resp == nil {
		return nil, nil
	}
	s, err := api.ParseSecret(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: reading Vault's answer: %w", doing, err)
	}
	return s, nil
}

func (v *vaultBackend) noMount(mount string) error {
	kv := "kv-v2"
	if v.kv == 1 {
		kv = "-version=1 kv"
	}
	return fmt.Errorf("Vault at %s has no secrets engine at %s/: enable one with `vault secrets enable -path=%s %s`", v.addr, mount, mount, kv)
}

// Put writes v into t's field, keeping the path's other fields. KV v2
// writes with check-and-set against prev.Version (0 = must not exist), so
// any change since prev was read fails with ErrConflict; custom_metadata
// (no values) is saved first, so an interrupted run never leaves a value
// without it. KV v1 has no check-and-set: Put re-reads and compares, then
// writes (a small race window remains, as with any KV v1 client).
func (v *vaultBackend) Put(ctx context.Context, t plan.Target, val secret.Value, m Metadata, prev Current) (string, error) {
	if err := checkTarget(t); err != nil {
		return "", err
	}
	if v.kv == 1 {
		return "", v.putV1(ctx, t, val, prev)
	}
	mount, path, field := v.mountOf(t), strings.Trim(t.Path, "/"), fieldOf(t)
	cas := 0
	data := map[string]any{}
	if prev.Version != "" {
		n, err := strconv.Atoi(prev.Version)
		if err != nil || n < 1 {
			return "", fmt.Errorf("%s: %q is not a KV v2 version", v.where(t), prev.Version)
		}
		cas = n
		// Keep the other fields of the version the decision was based on;
		// check-and-set makes sure it is still the current one.
		old, _, err := v.read(ctx, t, n)
		if err != nil {
			return "", err
		}
		for k, x := range old {
			data[k] = x
		}
	}
	data[field] = val.Reveal()

	var h hint
	md := map[string]any{"custom_metadata": customMetadata(m)}
	var err error
	if cas == 0 {
		_, err = v.c.Logical().WriteWithContext(h.with(ctx), mount+"/metadata/"+path, md)
	} else {
		_, err = v.c.Logical().JSONMergePatch(h.with(ctx), mount+"/metadata/"+path, md)
	}
	var re *api.ResponseError
	switch {
	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
		// Policies often grant mount/data/* but not mount/metadata/*:
		// the value matters more than its labels.
		slog.Warn("Vault refused to save custom_metadata (no policy for the metadata path); writing the value without it", "target", v.where(t))
	case err != nil:
		return "", v.wrap(err, &h, "saving the metadata of "+v.where(t))
	}
	s, err := v.c.KVv2(mount).Put(h.with(ctx), path, data, api.WithCheckAndSet(cas))
	if err != nil {
		if errors.As(err, &re) && re.StatusCode == http.StatusBadRequest && mentions(re, "check-and-set") {
			return "", fmt.Errorf("%s changed since it was read (it was %s): %w", v.where(t), versionOrNothing(prev), ErrConflict)
		}
		return "", v.wrap(err, &h, "writing "+v.where(t))
	}
	if s.VersionMetadata == nil {
		return "", fmt.Errorf("writing %s: Vault did not say which version it wrote", v.where(t))
	}
	return strconv.Itoa(s.VersionMetadata.Version), nil
}

func versionOrNothing(c Current) string {
	if c.Version == "" && !c.Exists {
		return "empty"
	}
	if c.Version == "" {
		return "set"
	}
	return "version " + c.Version
}

func (v *vaultBackend) putV1(ctx context.Context, t plan.Target, val secret.Value, prev Current) error {
	data, _, err := v.read(ctx, t, 0)
	if err != nil {
		return err
	}
	cur, err := currentOf(v.where(t), data, fieldOf(t), "")
	if err != nil {
		return err
	}
	if cur.Exists != prev.Exists || !cur.Value.Equal(prev.Value) {
		return fmt.Errorf("%s changed since it was read: %w", v.where(t), ErrConflict)
	}
	next := map[string]any{}
	for k, x := range data {
		next[k] = x
	}
	next[fieldOf(t)] = val.Reveal()
	var h hint
	if _, err := v.c.Logical().WriteWithContext(h.with(ctx), v.mountOf(t)+"/"+strings.Trim(t.Path, "/"), next); err != nil {
		return v.wrap(err, &h, "writing "+v.where(t))
	}
	return nil
}

// KV v2 custom_metadata limits: 64 keys, keys up to 128 bytes, values up
// to 512 bytes.
const maxMetadataValue = 512

// customMetadata turns m into KV v2 custom_metadata. It holds names and
// places, never values.
func customMetadata(m Metadata) map[string]string {
	out := map[string]string{"managed_by": "env2vault"}
	set := func(k, v string) {
		if v != "" {
			out[k] = cloudTruncate(v, maxMetadataValue)
		}
	}
	set("name", m.Name)
	set("service", m.Service)
	set("environment", m.Environment)
	set("owner", m.Owner)
	set("plan_id", m.PlanID)
	if len(m.Sources) > 0 {
		src := append([]string(nil), m.Sources...)
		sort.Strings(src)
		set("sources", cloudJoinLimited(src, ", ", maxMetadataValue))
	}
	return out
}

// mentions reports whether any of Vault's error messages contains s.
func mentions(re *api.ResponseError, s string) bool {
	for _, e := range re.Errors {
		if strings.Contains(strings.ToLower(e), s) {
			return true
		}
	}
	return false
}

// wrap turns an api error into a one-line message for people, keeping
// the original for errors.As, and marks failures worth retrying as
// *TransientError.
func (v *vaultBackend) wrap(err error, h *hint, doing string) error {
	if err == nil {
		return nil
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		if re.RawError || msg == "" {
			msg = http.StatusText(re.StatusCode)
		}
		msg = cloudTruncate(strings.ReplaceAll(msg, "\n", " "), 300)
		var out error
		switch {
		case re.StatusCode == http.StatusForbidden:
			out = &vaultError{msg: fmt.Sprintf("%s: Vault rejected the token (403 %s): it is invalid, expired or lacks a policy for this path; run `vault login` or set VAULT_TOKEN", doing, msg), err: err}
		case re.StatusCode == http.StatusNotFound:
			out = &vaultError{msg: fmt.Sprintf("%s: not found (404): is the mount %s/ enabled?", doing, v.mount), err: err}
		default:
			out = &vaultError{msg: fmt.Sprintf("%s: Vault answered %d: %s", doing, re.StatusCode, msg), err: err}
		}
		if transientStatus(re.StatusCode) || re.StatusCode == http.StatusBadRequest && mentions(re, "upgrading from non-versioned to versioned") {
			return &TransientError{Err: out, After: h.retryAfter}
		}
		return out
	}
	if errors.Is(err, context.DeadlineExceeded) && h.ctx != nil && h.ctx.Err() == nil {
		// The client's own timeout, not the caller's: a server that
		// accepts connections and never answers.
		return &vaultError{msg: fmt.Sprintf("%s: Vault at %s did not answer within %v (VAULT_CLIENT_TIMEOUT sets the limit)", doing, v.addr, v.c.ClientTimeout()), err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		why := ue.Err.Error()
		if strings.Contains(why, "certificate") || strings.Contains(why, "x509") || strings.Contains(why, "tls:") {
			return &vaultError{msg: fmt.Sprintf("cannot reach Vault at %s: TLS failed (%s); if the server uses a private CA, point VAULT_CACERT at its certificate", v.addr, why), err: err}
		}
		if os.Getenv(api.EnvVaultAddress) == "" {
			why += " (VAULT_ADDR is unset, so the default address was tried)"
		}
		return &TransientError{Err: &vaultError{msg: fmt.Sprintf("cannot reach Vault at %s: %s", v.addr, why), err: err}}
	}
	return &vaultError{msg: fmt.Sprintf("%s: %s", doing, strings.ReplaceAll(err.Error(), "\n", " ")), err: err}
}

// vaultError is a one-line message over the api's multi-line error.
type vaultError struct {
	msg string
	err error
}

func (e *vaultError) Error() string { return e.msg }
func (e *vaultError) Unwrap() error { return e.err }

// hint carries what the transport saw of one call's last HTTP response
// (its Retry-After), which the api's errors do not expose.
type hint struct {
	retryAfter time.Duration
	// ctx is the caller's context, to tell the client's own timeout
	// from the caller's deadline.
	ctx context.Context
}

type hintKey struct{}

func (h *hint) with(ctx context.Context) context.Context {
	h.ctx = ctx
	return context.WithValue(ctx, hintKey{}, h)
}

// hintTransport records Retry-After headers into the request's hint.
type hintTransport struct {
	base http.RoundTripper
}

func (t *hintTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if h, ok := req.Context().Value(hintKey{}).(*hint); ok {
			h.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	return resp, err
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

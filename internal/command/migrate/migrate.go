// Package migrate implements the `env2vault migrate` command.
package migrate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"charm.land/bubbles/v2/progress"
	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// MaxConcurrency caps --concurrency.
const MaxConcurrency = 64

// Options are the migrate command's settings.
type Options struct {
	IO       *cli.IOStreams
	PlanFile string
	// DryRun shows what would be written and writes nothing.
	DryRun bool
	// Yes skips the confirmation; without a terminal it is required to write.
	Yes          bool
	Concurrency  int
	InsecureHTTP bool
	// Endpoint overrides the GCP/AWS endpoint (tests, VPC endpoints).
	Endpoint string
	// Format is text (a table) or json (the migrate.Summary).
	Format string

	// Open and Resolve replace the real calls in tests; nil means
	// migrate.Open and discover.Resolve.
	Open    func(ctx context.Context, b plan.Backend, opts migrate.Options) (migrate.Backend, error)
	Resolve func(ctx context.Context, loc discover.Location) (secret.Value, error)
}

// NewCmd returns the `migrate` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "migrate --plan FILE",
		Short: "Push the plan's secrets into the backend, verified and resumable",
		Long: `Migrate pushes every secret in the plan into its backend (Vault KV v2 or
v1, Google Secret Manager, AWS Secrets Manager). For each secret it re-reads
the value from its source and checks it against the plan's fingerprint (a
source that changed since planning is a conflict, never pushed), writes only
what differs (check-and-set where the backend supports it), and reads it back
to verify. Throttling and server errors are retried with backoff.

Every step is recorded, without values, in FILE.journal beside the plan: an
interrupted migration is finished by running it again, and nothing is ever
written twice. A second run of an unchanged plan writes nothing.

Credentials come from the environment only (VAULT_ADDR, VAULT_TOKEN or
~/.vault-token, VAULT_CACERT, VAULT_NAMESPACE; GCP application default
credentials; the AWS credential chain). There is no token flag.

Without a terminal, writing needs --yes. Exit status: 0 all done, 2 bad input
or the backend unreachable, 3 some secrets conflicted or failed.`,
		Example: `  env2vault migrate --plan env2vault-plan.yaml --dry-run
  env2vault migrate --plan env2vault-plan.yaml --yes --concurrency 16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.PlanFile, "plan", "", "plan file (required)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show what would be written; write nothing")
	f.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	f.IntVar(&opts.Concurrency, "concurrency", migrate.DefaultConcurrency, "secrets pushed at once")
	f.BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain http:// to a non-loopback Vault")
	f.StringVar(&opts.Endpoint, "endpoint", "", "GCP or AWS endpoint override")
	f.StringVar(&opts.Format, "format", "text", "summary format: text or json")
	_ = cmd.MarkFlagRequired("plan")
	return cmd
}

// Run migrates the plan and prints the summary.
func Run(ctx context.Context, opts *Options) error {
	fail := func(err error) error { return &cli.ExitError{Code: cli.ExitFailure, Err: err} }
	if opts.PlanFile == "" {
		return fail(errors.New("--plan is required"))
	}
	if opts.Format == "" {
		opts.Format = "text"
	}
	if opts.Format != "text" && opts.Format != "json" {
		return fail(fmt.Errorf("unknown --format %q (want text or json)", opts.Format))
	}
	if opts.Concurrency < 1 || opts.Concurrency > MaxConcurrency {
		return fail(fmt.Errorf("--concurrency must be between 1 and %d, not %d", MaxConcurrency, opts.Concurrency))
	}
	interactive := opts.IO.InTTY && opts.IO.ErrTTY
	if !opts.DryRun && !opts.Yes && !interactive {
		return fail(errors.New("refusing to write secrets without confirmation: no terminal to ask on; pass --yes to migrate, or --dry-run to preview"))
	}
	p, err := plan.Load(opts.PlanFile)
	if err != nil {
		return fail(err)
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		return fail(err)
	}
	open := opts.Open
	if open == nil {
		open = migrate.Open
	}
	be, err := open(ctx, p.Backend, migrate.Options{AllowInsecureHTTP: opts.InsecureHTTP, Endpoint: opts.Endpoint})
	if err != nil {
		return fail(err)
	}
	ropts := migrate.RunOptions{
		Fingerprinter: fp,
		Concurrency:   opts.Concurrency,
		JournalPath:   migrate.JournalPath(opts.PlanFile),
		Resolve:       opts.Resolve,
	}
	if len(p.Secrets) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "The plan has no secrets: nothing to migrate.")
		return nil
	}

	if !opts.DryRun && !opts.Yes {
		// Interactive: preview (reads only), then ask.
		preview := ropts
		preview.DryRun = true
		sum, err := migrate.Run(ctx, be, p, preview)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s: %s.\n", backendName(p.Backend), countsLine(sum, true))
		if sum.Counts[plan.ActionCreate]+sum.Counts[plan.ActionUpdate] == 0 {
			return finish(opts, sum, nil)
		}
		ok, err := confirm(opts.IO, fmt.Sprintf("Write %d secrets to %s?", sum.Counts[plan.ActionCreate]+sum.Counts[plan.ActionUpdate], backendName(p.Backend)))
		if err != nil {
			return fail(err)
		}
		if !ok {
			fmt.Fprintln(opts.IO.ErrOut, "Nothing was written.")
			return cli.Exit(cli.ExitFailure)
		}
	}

	ropts.DryRun = opts.DryRun
	bar := newBar(opts.IO)
	ropts.Progress = bar.update
	sum, err := migrate.Run(ctx, be, p, ropts)
	bar.done()
	return finish(opts, sum, err)
}

// finish prints the summary and picks the exit status.
func finish(opts *Options, sum *migrate.Summary, runErr error) error {
	if sum != nil {
		if opts.Format == "json" {
			enc := json.NewEncoder(opts.IO.Out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(sum); err != nil {
				return &cli.ExitError{Code: cli.ExitFailure, Err: err}
			}
		} else {
			WriteSummary(opts.IO.Out, sum)
		}
		if !sum.DryRun && opts.Format == "text" {
			fmt.Fprintf(opts.IO.ErrOut, "Journal: %s\n", migrate.JournalPath(opts.PlanFile))
		}
	}
	if runErr != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: runErr}
	}
	if !sum.OK() {
		// Also on stderr, which CI logs keep when stdout (the summary or
		// the JSON) goes to a file.
		return &cli.ExitError{Code: cli.ExitConflict, Err: notMigrated(sum)}
	}
	return nil
}

// WriteSummary prints the results as a table, then the counts and the
// reason for every conflict or failure. It prints no values.
func WriteSummary(w io.Writer, sum *migrate.Summary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTARGET\tACTION\tVERSION\tVERIFIED")
	for _, r := range sum.Results {
		action := r.Action
		if r.Resumed {
			// An interrupted earlier run wrote it; this run confirmed it.
			action = r.Planned + " (resumed)"
		}
		verified := "no"
		switch {
		case r.Verified:
			verified = "yes"
		case sum.DryRun:
			verified = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Target, action, orDash(r.Version), verified)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, countsLine(sum, sum.DryRun)+".")
	for _, r := range sum.Results {
		if r.Error != "" {
			fmt.Fprintf(w, "  %s %s: %s\n", r.Action, r.Name, r.Error)
		}
	}
	if sum.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was written.")
	}
}

// countsLine summarises a run, e.g. "3 created, 1 unchanged, 1 conflict".
func countsLine(sum *migrate.Summary, future bool) string {
	words := []struct{ action, did, will string }{
		{plan.ActionCreate, "created", "to create"},
		{plan.ActionUpdate, "updated", "to update"},
		{plan.ActionNoop, "unchanged", "unchanged"},
		{plan.ActionConflict, "conflict", "conflict"},
		{migrate.ActionFailed, "failed", "failed"},
		{migrate.ActionSkipped, "not reached", "not reached"},
	}
	var parts []string
	for _, w := range words {
		n := sum.Counts[w.action]
		if n == 0 && w.action != plan.ActionCreate && w.action != plan.ActionConflict {
			continue
		}
		word := w.did
		if future {
			word = w.will
		}
		if w.action == plan.ActionConflict && n != 1 {
			word += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, word))
	}
	resumed := 0
	for _, r := range sum.Results {
		if r.Resumed {
			resumed++
		}
	}
	if resumed > 0 {
		parts = append(parts, fmt.Sprintf("%d finished by an earlier run", resumed))
	}
	return fmt.Sprintf("%d secrets: %s", len(sum.Results), strings.Join(parts, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func backendName(b plan.Backend) string {
	switch b.Kind {
	case plan.BackendGCP:
		return "Google Secret Manager (project " + b.Project + ")"
	case plan.BackendAWS:
		return "AWS Secrets Manager (" + b.Region + ")"
	default:
		kv := b.KVVersion
		if kv == 0 {
			kv = 2
		}
		return fmt.Sprintf("Vault KV v%d mount %s/", kv, b.Mount)
	}
}

// confirm asks a yes/no question on the terminal.
func confirm(ios *cli.IOStreams, q string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "%s [y/N] ", q)
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// bar draws progress on a terminal's stderr; elsewhere it stays quiet.
type bar struct {
	w     io.Writer
	on    bool
	model progress.Model
	drawn bool
}

func newBar(ios *cli.IOStreams) *bar {
	b := &bar{w: ios.ErrOut, on: ios.ErrTTY}
	if b.on {
		if ios.Color {
			b.model = progress.New(progress.WithWidth(40), progress.WithDefaultBlend())
		} else {
			b.model = progress.New(progress.WithWidth(40), progress.WithFillCharacters('#', '.'), progress.WithColors(lipgloss.NoColor{}))
			b.model.EmptyColor = lipgloss.NoColor{}
		}
	}
	return b
}

func (b *bar) update(done, total int, r migrate.Result) {
	if !b.on || total == 0 {
		return
	}
	fmt.Fprintf(b.w, "\r%s %d/%d secrets\x1b[K", b.model.ViewAs(float64(done)/float64(total)), done, total)
	b.drawn = true
}

func (b *bar) done() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}

// notMigrated names the secrets that conflicted, failed or were skipped,
// with why (the first few), for stderr. Errors never hold values.
func notMigrated(sum *migrate.Summary) error {
	const show = 5
	var bad []migrate.Result
	for _, r := range sum.Results {
		switch r.Action {
		case plan.ActionConflict, migrate.ActionFailed, migrate.ActionSkipped:
			bad = append(bad, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d secrets were not migrated (secrets already written are kept; fix the cause and rerun):", len(bad), len(sum.Results))
	for i, r := range bad {
		if i == show {
			fmt.Fprintf(&b, "\n  ... and %d more (see the summary)", len(bad)-show)
			break
		}
		fmt.Fprintf(&b, "\n  %s %s", r.Action, r.Name)
		if r.Error != "" {
			fmt.Fprintf(&b, ": %s", r.Error)
		}
	}
	return errors.New(b.String())
}

// Package wizard implements the `env2vault wizard` command.
package wizard

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
)

// NewCmd returns the `wizard` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "wizard",
		Short: "PLACEHOLDER: being built",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("wizard is not built yet")
		},
	}
}

package discover

import "errors"

// NewDetector (temporary until discover/detect lands; not committed).
func NewDetector() (Detector, error) { return nil, errors.New("detect not yet available") }

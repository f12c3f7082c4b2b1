/** How far a topology may rely on a stage's or resource's config across upgrades. */
export type Stability = 'stable' | 'beta' | 'experimental';

/** What each level promises, as the stage reference states it. */
export const stabilityPromises: Record<Stability, string> = {
  stable:
    'Config fields are kept: their names, meaning and defaults stay, and new fields come with defaults, so a topology that lints today still lints after an upgrade. Covered end to end by the e2e tests.',
  beta: 'Works and is tested, but config fields may change (be renamed, or take other values or defaults) between releases: read this reference when upgrading.',
  experimental: 'For trying out: config fields may change or go, and so may the stage itself, in any release.',
};

/**
 * What a fuzz run tried and saw, per input family: how many inputs, which statuses (or `closed`,
 * `silent`, `timeout` when there was none), how many 5xx and crashes. Printed one line per family.
 * A 5xx can be recorded as `known` (a reported bug with a todo test of its own): it is still counted
 * and shown, but apart from the new ones.
 */
interface Family {
  inputs: number;
  outcomes: Map<string, number>;
  fivexx: number;
  knownFivexx: number;
}

export class FuzzTally {
  readonly #families = new Map<string, Family>();
  crashes = 0;
  /** Crashes of a reported bug (a todo test that kills a gateway of its own on purpose). */
  knownCrashes = 0;

  #family(name: string): Family {
    let family = this.#families.get(name);
    if (!family) {
      family = { inputs: 0, outcomes: new Map(), fivexx: 0, knownFivexx: 0 };
      this.#families.set(name, family);
    }
    return family;
  }

  /** One input sent; `outcome` is its status code, or a word when there was none. */
  record(familyName: string, outcome: number | string, known = false): void {
    const family = this.#family(familyName);
    family.inputs += 1;
    const key = known ? `${outcome} (known)` : String(outcome);
    family.outcomes.set(key, (family.outcomes.get(key) ?? 0) + 1);
    if (typeof outcome === 'number' && outcome >= 500) {
      if (known) family.knownFivexx += 1;
      else family.fivexx += 1;
    }
  }

  inputs(familyName?: string): number {
    if (familyName !== undefined) return this.#families.get(familyName)?.inputs ?? 0;
    let total = 0;
    for (const family of this.#families.values()) total += family.inputs;
    return total;
  }

  /** 5xx not known to be a reported bug, in the given families (default: all). */
  fiveHundreds(familyNames?: readonly string[]): number {
    let total = 0;
    for (const [name, family] of this.#families)
      if (!familyNames || familyNames.includes(name)) total += family.fivexx;
    return total;
  }

  /** `fuzz: 2300 inputs (1200 bodies, 400 headers, ...): 0 5xx, 0 crashes` */
  summary(familyNames?: readonly string[]): string {
    const families = [...this.#families].filter(([name]) => !familyNames || familyNames.includes(name));
    const parts = families.map(([name, family]) => `${family.inputs} ${name}`);
    const known = families.reduce((n, [, family]) => n + family.knownFivexx, 0);
    const knownPart = known > 0 ? ` (+${known} known, see todo tests)` : '';
    const total = families.reduce((n, [, family]) => n + family.inputs, 0);
    const knownCrashes = this.knownCrashes > 0 ? ` (+${this.knownCrashes} known)` : '';
    return (
      `fuzz: ${total} inputs (${parts.join(', ')}): ${this.fiveHundreds(familyNames)} 5xx${knownPart}, ` +
      `${this.crashes} crashes${knownCrashes}`
    );
  }

  /** One line per family: `bodies: 1200 inputs; 200 x310, 400 x512, ...` */
  distribution(): string[] {
    return [...this.#families].map(([name, family]) => {
      const outcomes = [...family.outcomes]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([outcome, count]) => `${outcome} x${count}`)
        .join(', ');
      return `${name}: ${family.inputs} inputs; ${outcomes}`;
    });
  }
}

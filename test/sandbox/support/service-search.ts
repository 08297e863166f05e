/** A010's four mandatory parameters, as in A010_Request.json; `specialty` narrows the search. */
export const serviceSearch = (specialty?: string): { resourceType: string; parameter: Record<string, unknown>[] } => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'requestType', valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-RequestType-1', code: 'APPOINTMENT_REQUEST' } },
    { name: 'sortBy', valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-SortBy-1', code: 'DISTANCE' } },
    { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: '9000000009' } },
    {
      name: 'searchCriteria',
      resource: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'priority', valueCoding: { system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1', code: 'ROUTINE' } },
          ...(specialty === undefined ? [] : [{ name: 'specialty', valueCoding: { code: specialty } }]),
        ],
      },
    },
  ],
});

import{require_dist}from"./chunk-3AGQFA7T.mjs";import{__toESM}from"./chunk-YT4JJS4X.mjs";var import_yaml=__toESM(require_dist(),1),frozenPlanText=frozen=>`# Frozen by claude-parallel when the feature started; the phases follow this copy.
${(0,import_yaml.stringify)(frozen)}`;export{frozenPlanText};

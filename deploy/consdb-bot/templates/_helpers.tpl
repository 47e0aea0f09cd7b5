{{/* The chart's name and labels, as Phalanx charts write them. */}}
{{- define "consdb-bot.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "consdb-bot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "consdb-bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "consdb-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "consdb-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Name parts, truncated to 63 characters as DNS labels require. */}}
{{- define "xander.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "xander.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "xander.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "xander.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: xander
{{- end }}

{{- define "xander.controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "xander.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "xander.controller.fullname" -}}
{{- printf "%s-controller" (include "xander.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "xander.agent.fullname" -}}
{{- printf "%s-agent" (include "xander.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "xander.controller.serviceAccountName" -}}
{{- default (include "xander.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- end }}

{{- define "xander.agent.serviceAccountName" -}}
{{- default (include "xander.agent.fullname" .) .Values.agent.serviceAccount.name }}
{{- end }}

{{- define "xander.leaseName" -}}
{{- default (include "xander.controller.fullname" .) .Values.controller.leaderElection.leaseName }}
{{- end }}

{{/*
The objects the controller creates in the release namespace have fixed names in the code
(src/controller/daemonset.ts AGENT_NAME and AGENT_CONFIG_MAP); the Role grants writes to these names only.
*/}}
{{- define "xander.agentDaemonSetName" -}}xander-agent{{- end }}
{{- define "xander.agentConfigMapName" -}}xander-agent-config{{- end }}

{{- define "xander.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "xander.agent.image" -}}
{{- $repository := default .Values.image.repository .Values.agent.image.repository }}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.agent.image.tag }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{- define "xander.agent.imagePullPolicy" -}}
{{- default .Values.image.pullPolicy .Values.agent.image.pullPolicy }}
{{- end }}

{{/* The labels of one alert of the PrometheusRule: its severity, then metrics.prometheusRule.alertLabels. */}}
{{- define "xander.alertLabels" -}}
severity: {{ .alert.severity | quote }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

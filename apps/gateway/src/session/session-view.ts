import { ApiProperty } from '@nestjs/swagger';
import type { GatewayRole, GatewaySession } from '@libs/session-store';

export class RoleView {
  @ApiProperty({ example: 'REFERRING_CLINICIAN' }) businessFunction!: string;
  @ApiProperty({ example: 'R01' }) orgIdentifier!: string;
  @ApiProperty({ example: 'THE DENSHAM SURGERY' }) orgName!: string;
}

export class UserView {
  @ApiProperty({ example: '555020964101', description: '12-digit SDS user id' })
  identifier!: string;
  @ApiProperty() firstName!: string;
  @ApiProperty() lastName!: string;
  @ApiProperty({ type: String, nullable: true }) middleName!: string | null;
}

/** The body of every successful session call. Never carries the token or the session key. */
export class SessionView {
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiProperty({ type: [RoleView], description: 'the roles (e-RS permissions) the user holds' })
  permissions!: RoleView[];
  @ApiProperty({ type: RoleView, nullable: true, description: 'the selected role, or null' })
  role!: RoleView | null;
  @ApiProperty({ format: 'date-time' }) idleExpiresAt!: string;
  @ApiProperty({ format: 'date-time' }) absoluteExpiresAt!: string;
}

const roleView = (role: GatewayRole): RoleView => ({
  businessFunction: role.businessFunction,
  orgIdentifier: role.orgIdentifier,
  orgName: role.orgName,
});

export function toSessionView(session: GatewaySession): SessionView {
  return {
    user: {
      identifier: session.user.identifier,
      firstName: session.user.firstName,
      lastName: session.user.lastName,
      middleName: session.user.middleName,
    },
    permissions: session.roles.map(roleView),
    role: session.role === null ? null : roleView(session.role),
    idleExpiresAt: new Date(session.idleExpiresAtMs).toISOString(),
    absoluteExpiresAt: new Date(session.absoluteExpiresAtMs).toISOString(),
  };
}

import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { checkInteger } from '../k8s/validation.js';

/** Root device of the EKS-optimized Amazon Linux 2023 AMIs. */
export const AL2023_ROOT_DEVICE = '/dev/xvda';

/** Props for a {@link NodeLaunchTemplate}. */
export interface NodeLaunchTemplateProps {
  /** Root volume size in GiB. @default 50 */
  readonly rootVolumeGiB?: number;
  /**
   * AMI. Leave unset for EKS managed node groups (EKS picks the AL2023 AMI from the group's `amiType`
   * and merges its own NodeConfig into the user data). @default none
   */
  readonly machineImage?: ec2.IMachineImage;
  /** User data (self-managed groups: the nodeadm NodeConfig). @default none */
  readonly userData?: ec2.UserData;
  /** Instance role; an instance profile is created for it (self-managed groups only). @default none */
  readonly role?: iam.IRole;
  /** Security group of the instances (self-managed groups: the cluster security group). @default none */
  readonly securityGroup?: ec2.ISecurityGroup;
}

/**
 * The launch template every ElasticAI node starts from: IMDSv2 required with a hop limit of 1 (pods
 * cannot reach the node's instance credentials; they use IRSA), an encrypted gp3 root volume, and
 * detailed monitoring off (CloudWatch agent metrics are not used by the autoscaler).
 */
export class NodeLaunchTemplate extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;

  constructor(scope: Construct, id: string, props: NodeLaunchTemplateProps = {}) {
    super(scope, id);
    const rootVolumeGiB = props.rootVolumeGiB ?? 50;
    checkInteger('rootVolumeGiB', rootVolumeGiB, 20, 16384);
    this.launchTemplate = new ec2.LaunchTemplate(this, 'Resource', {
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      httpEndpoint: true,
      machineImage: props.machineImage,
      userData: props.userData,
      role: props.role,
      securityGroup: props.securityGroup,
      blockDevices: [
        {
          deviceName: AL2023_ROOT_DEVICE,
          volume: ec2.BlockDeviceVolume.ebs(rootVolumeGiB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });
  }
}
